// What the two CRD checks share (kit/mesh/schemas.mjs for the mesh's Istio resources,
// ci/crd_validate.mjs for every custom resource of cluster/): reading their JSON input,
// telling a missing model from a broken one, and putting ajv's verdict in words.

export function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isMissingModule(error) {
  return error?.code === "ERR_MODULE_NOT_FOUND" || error?.code === "ERR_PACKAGE_PATH_NOT_EXPORTED";
}

export async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
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

// The schema's complaints about `resource` as a model of `Model`; none when it is valid.
export function violations(Model, resource) {
  try {
    new Model(resource).validate();
  } catch (error) {
    // Anything but the schema's verdict is a failure of the check itself.
    if (!Array.isArray(error?.errors)) throw error;
    return [...new Set(error.errors.map(describe))];
  }
  return [];
}

// Each apiVersion/kind's model imported once, however many resources name it.
export function modelCache(importModel) {
  const models = new Map();
  return (apiVersion, kind) => {
    const key = `${apiVersion} ${kind}`;
    if (!models.has(key)) {
      models.set(key, importModel(apiVersion, kind));
    }
    return models.get(key);
  };
}
