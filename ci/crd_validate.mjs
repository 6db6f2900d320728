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

function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isMissingModule(error) {
  return error?.code === "ERR_MODULE_NOT_FOUND" || error?.code === "ERR_PACKAGE_PATH_NOT_EXPORTED";
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

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

const models = new Map();

function modelFor(apiVersion, kind) {
  const key = `${apiVersion} ${kind}`;
  if (!models.has(key)) {
    models.set(key, importModel(apiVersion, kind));
  }
  return models.get(key);
}

// ajv's own words, with the path relative to the resource and the detail ajv keeps in params.
function describe(error) {
  const path = error.instancePath.replace(/^\//, "");
  let message = error.message ?? error.keyword;
  if (error.keyword === "enum" && Array.isArray(error.params?.allowedValues)) {
    message += ` (${error.params.allowedValues.join(", ")})`;
  } else if (error.keyword === "additionalProperties" && error.params?.additionalProperty) {
    message += ` (${error.params.additionalProperty})`;
  }
  return path ? `${path} ${message}` : message;
}

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
  try {
    new Model(resource).validate();
  } catch (error) {
    // Anything but the schema's verdict is a failure of the check itself.
    if (!Array.isArray(error?.errors)) throw error;
    return { unknown: false, errors: [...new Set(error.errors.map(describe))] };
  }
  return { unknown: false, errors: [] };
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
