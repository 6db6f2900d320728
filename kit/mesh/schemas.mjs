// Validates Istio resources against Istio's published CRD schemas, as packaged
// by @kubernetes-models/istio (pinned in package.json), for kit/mesh/schemas.py.
//
// stdin:  [{"source": "<file>#<index>", "resource": {...}}, ...]
// stdout: [{"source", "kind", "name", "errors": ["<path> <message>", ...]}, ...]
//         for the invalid resources only; an unknown apiVersion/kind is invalid.
// Exit 0 whenever the check ran, whatever it found; 2 for input it cannot read,
// 3 when the package is not installed (the caller tells the user to install it).

const PACKAGE = "@kubernetes-models/istio";
// The groups of the mesh's policy; the package's other groups (telemetry,
// extensions, install) are not part of it, so their kinds count as unknown.
const GROUPS = new Set(["security.istio.io", "networking.istio.io"]);
// Both patterns keep an apiVersion or kind from naming any other file of the
// package (an index, a schema module, a relative path) through the import.
const VERSION = /^v[0-9]+(?:(?:alpha|beta)[0-9]+)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;
// Every kind of those groups, as a check that the package is there at all.
const PROBE = `${PACKAGE}/security.istio.io/v1/AuthorizationPolicy`;

const EXIT_BAD_INPUT = 2;
const EXIT_NOT_INSTALLED = 3;

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

// What the package offers for a group/version, named in the error so a typo
// in a kind or version is easy to fix; only read when something is unknown.
async function offered(group, version) {
  if (VERSION.test(version)) {
    try {
      const kinds = Object.keys(await import(`${PACKAGE}/${group}/${version}`)).sort();
      return `${group}/${version} offers ${kinds.join(", ")}`;
    } catch (error) {
      if (!isMissingModule(error)) throw error;
    }
  }
  const versions = Object.keys(await import(`${PACKAGE}/${group}`)).sort();
  return `${group} offers versions ${versions.join(", ")}`;
}

const models = new Map();

async function importModel(apiVersion, kind) {
  const [group, version, ...rest] = apiVersion.split("/");
  if (!GROUPS.has(group) || rest.length > 0 || version === undefined) {
    const expected = [...GROUPS].map((known) => `${known}/<version>`).join(" or ");
    throw new Unknown(`unknown apiVersion ${apiVersion}: expected ${expected}`);
  }
  if (!VERSION.test(version) || !KIND.test(kind)) {
    throw new Unknown(`unknown apiVersion/kind ${apiVersion} ${kind}: ${await offered(group, version)}`);
  }
  let module;
  try {
    module = await import(`${PACKAGE}/${group}/${version}/${kind}`);
  } catch (error) {
    if (!isMissingModule(error)) throw error;
    throw new Unknown(`unknown apiVersion/kind ${apiVersion} ${kind}: ${await offered(group, version)}`);
  }
  const Model = module[kind];
  if (typeof Model !== "function" || Model.apiVersion !== apiVersion || Model.kind !== kind) {
    throw new Unknown(`unknown apiVersion/kind ${apiVersion} ${kind}: ${await offered(group, version)}`);
  }
  return Model;
}

function modelFor(apiVersion, kind) {
  const key = `${apiVersion} ${kind}`;
  if (!models.has(key)) {
    models.set(key, importModel(apiVersion, kind));
  }
  return models.get(key);
}

// ajv's own words, with the path relative to the resource ("spec/...") and
// the detail ajv keeps in params but leaves out of the message.
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
  if (!isObject(resource)) {
    return ["must be object (a Kubernetes resource)"];
  }
  const { apiVersion, kind } = resource;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return [
      ...(typeof apiVersion === "string" ? [] : ["apiVersion must be string"]),
      ...(typeof kind === "string" ? [] : ["kind must be string"]),
    ];
  }
  let Model;
  try {
    Model = await modelFor(apiVersion, kind);
  } catch (error) {
    if (error instanceof Unknown) return [error.message];
    throw error;
  }
  try {
    new Model(resource).validate();
  } catch (error) {
    // Anything but the schema's verdict is a failure of the check itself.
    if (!Array.isArray(error?.errors)) throw error;
    return [...new Set(error.errors.map(describe))];
  }
  return [];
}

async function main() {
  let items;
  try {
    items = JSON.parse(await readStdin());
  } catch (error) {
    console.error(`schemas.mjs: stdin is not JSON: ${error.message}`);
    return EXIT_BAD_INPUT;
  }
  if (!Array.isArray(items) || !items.every((item) => isObject(item) && typeof item.source === "string")) {
    console.error('schemas.mjs: stdin must be a JSON array of {"source": string, "resource": object}');
    return EXIT_BAD_INPUT;
  }
  try {
    await import(PROBE);
  } catch (error) {
    if (!isMissingModule(error)) throw error;
    console.error(`schemas.mjs: ${PACKAGE} is not installed (${error.message}); run npm install`);
    return EXIT_NOT_INSTALLED;
  }
  const invalid = [];
  for (const { source, resource } of items) {
    const errors = await check(resource);
    if (errors.length > 0) {
      const name = isObject(resource) && isObject(resource.metadata) ? resource.metadata.name : undefined;
      invalid.push({
        source,
        kind: isObject(resource) && typeof resource.kind === "string" ? resource.kind : null,
        name: typeof name === "string" ? name : null,
        errors,
      });
    }
  }
  process.stdout.write(`${JSON.stringify(invalid)}\n`);
  return 0;
}

// exitCode rather than process.exit(): exiting at once could cut off the
// output still being written to a pipe.
process.exitCode = await main();
