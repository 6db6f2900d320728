"""Set the images an overlay deploys: the GitOps step of staging and prod.

    python ci/gitops_bump.py --overlay cluster/overlays/staging --tag sha-0123abc \\
        --image ghcr.io/stockmesh/stockmesh [--digest sha256:...] \\
        [--image ghcr.io/stockmesh/stockmesh-edge --digest sha256:...] [--commit]

The n-th --digest is the n-th --image's (all images have one, or none); every
image gets the same tag, since the pipeline tags each image of a commit alike,
and they land in one commit, so Argo CD never syncs one without the other.

Edits the overlay's kustomization.yaml the way `kustomize edit set image`
does (the `images:` entry whose name is the image gets newTag, and digest when
given, so what runs is exactly what was signed), without needing the
kustomize binary on the runner. With --commit it commits the one file and
pushes it, retrying on a race with another push: Argo CD then syncs the
cluster from git, so the repository stays the only source of what runs.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # the OCI tag grammar
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
PUSH_ATTEMPTS = 5


class BumpError(Exception):
    """The overlay cannot take the new image."""


def set_image(kustomization: Path, image: str, tag: str, digest: str | None = None) -> bool:
    """Point `image` at `tag` (and `digest`) in `kustomization`; True if the file changed."""
    if not TAG.match(tag):
        raise BumpError(f"not a valid image tag: {tag!r}")
    if digest is not None and not DIGEST.match(digest):
        raise BumpError(f"not a sha256 digest: {digest!r}")
    if not kustomization.is_file():
        raise BumpError(f"no kustomization at {kustomization}")
    text = kustomization.read_text(encoding="utf-8")
    doc: Any = yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise BumpError(f"{kustomization} is not a YAML mapping")
    images = doc.setdefault("images", [])
    if not isinstance(images, list):
        raise BumpError(f"{kustomization}: images is not a list")
    entry = next((e for e in images if isinstance(e, dict) and e.get("name") == image), None)
    if entry is None:
        entry = {"name": image}
        images.append(entry)
    entry["newTag"] = tag
    if digest is None:
        entry.pop("digest", None)
    else:
        entry["digest"] = digest
    new_text = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)
    if new_text == text:
        return False
    kustomization.write_text(new_text, encoding="utf-8")
    return True


def _git(*args: str) -> None:
    subprocess.run(["git", *args], cwd=ROOT, check=True)


def commit_and_push(path: Path, message: str) -> None:
    """Commit the bumped file and push, rebasing onto a push that won the race."""
    branch = subprocess.run(
        ["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    _git("add", str(path.resolve()))
    _git("-c", "user.name=stockmesh-pipeline", "-c", "user.email=pipeline@stockmesh.invalid",
         "commit", "--message", message)  # fmt: skip
    for attempt in range(1, PUSH_ATTEMPTS + 1):
        if subprocess.run(["git", "push", "origin", "HEAD"], cwd=ROOT, check=False).returncode == 0:
            return
        print(f"gitops_bump: push refused (attempt {attempt}), rebasing on the remote", flush=True)
        _git("pull", "--rebase", "origin", branch)
        time.sleep(attempt)
    raise BumpError(f"could not push after {PUSH_ATTEMPTS} attempts")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--overlay", type=Path, required=True, help="the overlay directory")
    parser.add_argument("--image", action="append", required=True, help="image name as in the manifests")
    parser.add_argument("--tag", required=True)
    parser.add_argument("--digest", action="append", help="sha256:... of the pushed, signed image")
    parser.add_argument("--commit", action="store_true", help="commit and push the change")
    args = parser.parse_args(argv)
    digests: list[str | None] = list(args.digest or [None] * len(args.image))
    if len(digests) != len(args.image):
        parser.error(f"{len(args.image)} --image but {len(digests)} --digest: give each image its digest")
    kustomization = args.overlay / "kustomization.yaml"
    try:
        changed = []
        for image, digest in zip(args.image, digests, strict=True):
            did = set_image(kustomization, image, args.tag, digest or None)
            print(f"{kustomization}: {image} -> {args.tag} {'(changed)' if did else '(already set)'}")
            if did:
                changed.append(image)
        if changed and args.commit:
            names = ", ".join(f"{image}:{args.tag}" for image in changed)
            commit_and_push(kustomization, f"deploy({args.overlay.name}): {names} [skip ci]")
    except BumpError as exc:
        print(f"gitops_bump: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
