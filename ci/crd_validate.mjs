// Validates custom resources against their CRD schemas, as packaged by the @kubernetes-models/*
// packages (ajv validators generated from each project's CRDs or Go types). The same pattern as
// kit/mesh/schemas.mjs, for every custom resource kind the cluster/ manifests use.
//
// stdin:  [{"source": "<where>", "resource": {...}}, ...]
// stdout: [{"source", "kind", "apiVersion", "name", "unknown", "errors": ["<path> <message>"]}, ...]
//         for the invalid resources only. `unknown` is true when no package has a model for the
//         resource's apiVersion and kind: the caller decides whether that kind is allowed.
// Exit 0 whenever the check ran, whatever it found; 2 for input it cannot read, 3 when a
// package is not installed (the caller tells the user to install it).

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { isMissingModule, isObject, modelCache, readStdin, violations } from "../kit/mesh/crd_models.mjs";

// Searched in this order for a group; the first with a model of the kind wins (argoproj.io is
// split between Argo Rollouts and Argo CD; monitoring.coreos.com's PodMonitor is also in
// cloudnative-pg, whose copy comes second).
const PACKAGES = [
  "@kubernetes-models/istio",
  "@kubernetes-models/argo-rollouts",
  "@kubernetes-models/argo-cd",
  "@kubernetes-models/prometheus-operator",
  "@kubernetes-models/cloudnative-pg",
  "@kubernetes-models/external-secrets",
  "@kubernetes-models/opentelemetry-operator",
];
// These patterns keep an apiVersion or kind from naming any other file of a package (an index,
// a schema module, a relative path) through the import.
const GROUP = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;
const VERSION = /^v[0-9]+(?:(?:alpha|beta)[0-9]+)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;

const EXIT_BAD_INPUT = 2;
const EXIT_NOT_INSTALLED = 3;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

class Unknown extends Error {}




async function importModel(apiVersion, kind) {
  const [group, version, ...rest] = apiVersion.split("/");
  if (version === undefined || rest.length > 0 || !GROUP.test(group) || !VERSION.test(version) || !KIND.test(kind)) {
    throw new Unknown(`no schema for ${apiVersion} ${kind}: not a custom resource's apiVersion/kind`);
  }
  for (const pkg of PACKAGES) {
    let module;
    try {
      module = await import(`${pkg}/${group}/${version}/${kind}`);
    } catch (error) {
      if (isMissingModule(error)) continue;
      throw error;
    }
    const Model = module[kind];
    if (typeof Model === "function" && Model.apiVersion === apiVersion && Model.kind === kind) {
      return Model;
    }
  }
  throw new Unknown(`no schema for ${apiVersion} ${kind} in ${PACKAGES.join(", ")}`);
}


const modelFor = modelCache(importModel);


async function check(resource) {
  const { apiVersion, kind } = resource;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return { unknown: false, errors: ["apiVersion and kind must be strings"] };
  }
  let Model;
  try {
    Model = await modelFor(apiVersion, kind);
  } catch (error) {
    if (error instanceof Unknown) return { unknown: true, errors: [error.message] };
    throw error;
  }
  return { unknown: false, errors: violations(Model, resource) };
}

async function main() {
  const missing = PACKAGES.filter((pkg) => !existsSync(join(ROOT, "node_modules", pkg, "package.json")));
  if (missing.length > 0) {
    console.error(`crd_validate.mjs: not installed: ${missing.join(", ")}; run npm install`);
    return EXIT_NOT_INSTALLED;
  }
  let items;
  try {
    items = JSON.parse(await readStdin());
  } catch (error) {
    console.error(`crd_validate.mjs: stdin is not JSON: ${error.message}`);
    return EXIT_BAD_INPUT;
  }
  if (!Array.isArray(items) || !items.every((item) => isObject(item) && typeof item.source === "string" && isObject(item.resource))) {
    console.error('crd_validate.mjs: stdin must be a JSON array of {"source": string, "resource": object}');
    return EXIT_BAD_INPUT;
  }
  const invalid = [];
  for (const { source, resource } of items) {
    const { unknown, errors } = await check(resource);
    if (errors.length > 0) {
      const name = isObject(resource.metadata) ? resource.metadata.name : undefined;
      invalid.push({
        source,
        kind: typeof resource.kind === "string" ? resource.kind : null,
        apiVersion: typeof resource.apiVersion === "string" ? resource.apiVersion : null,
        name: typeof name === "string" ? name : null,
        unknown,
        errors,
      });
    }
  }
  process.stdout.write(`${JSON.stringify(invalid)}\n`);
  return 0;
}

// exitCode rather than process.exit(): exiting at once could cut off output still in a pipe.
process.exitCode = await main();
