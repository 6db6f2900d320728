// One HTTP exchange with the gateway, and the error every screen shows: the API's own
// google.rpc.Status (code, message, details) as JSON, or a clear word when the gateway is unreachable.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`)
    this.status = status
    this.code = body?.code ?? 2
    const details = Array.isArray(body?.details) ? body.details : []
    const info = details.find((d) => d['@type']?.endsWith('google.rpc.ErrorInfo'))
    this.reason = info?.reason || ''
    this.metadata = info?.metadata || {}
    // Field-level complaints (BadRequest) and failed preconditions, each shown under the message.
    this.fields = details
      .filter((d) => d['@type']?.endsWith('google.rpc.BadRequest'))
      .flatMap((d) => d.fieldViolations || [])
      .map((v) => ({ field: v.field, description: v.description }))
    this.violations = details
      .filter((d) => d['@type']?.endsWith('google.rpc.PreconditionFailure'))
      .flatMap((d) => d.violations || [])
      .map((v) => ({ subject: v.subject, description: v.description }))
  }
}

export class Unreachable extends ApiError {
  constructor(cause) {
    super(0, { code: 14, message: `The gateway could not be reached (${cause?.message || 'network error'}). Check the connection and try again.` })
    this.reason = 'UNREACHABLE'
  }
}

/** A random request id for Idempotency-Key. crypto.randomUUID exists only in secure contexts; a
 * console served over plain HTTP on a closed network must work too. */
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** The query string of a request: arrays repeat their key, empty values are left out. */
export function queryString(query) {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query || {})) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== undefined && one !== null && one !== '') params.append(key, String(one))
    }
  }
  const text = params.toString()
  return text ? `?${text}` : ''
}

export async function exchange(method, path, { query, body, headers = {}, signal } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, signal }
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  let response
  try {
    response = await fetch(path + queryString(query), init)
  } catch (error) {
    if (error?.name === 'AbortError') throw error
    throw new Unreachable(error)
  }
  const text = await response.text()
  let parsed = null
  try {
    parsed = text ? JSON.parse(text) : {}
  } catch {
    parsed = { message: `HTTP ${response.status}: the gateway answered something other than JSON` }
  }
  if (!response.ok) throw new ApiError(response.status, parsed)
  return { body: parsed, etag: response.headers.get('ETag') }
}
