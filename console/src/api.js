// Authorized calls to the REST API: the bearer token on every call, one renewal and one retry
// when the gateway says the token has expired.
import { ApiError, exchange } from './http.js'
import { current, renew } from './session.js'

async function send(method, path, options, retried = false) {
  const session = current()
  if (!session) throw new ApiError(401, { code: 16, message: 'Not signed in.' })
  const headers = { Authorization: `Bearer ${session.tokens.accessToken}` }
  if (options.key) headers['Idempotency-Key'] = options.key
  if (options.etag) headers['If-Match'] = `"${options.etag}"`
  try {
    return await exchange(method, path, { ...options, headers })
  } catch (error) {
    if (!retried && error instanceof ApiError && error.reason === 'TOKEN_EXPIRED') {
      await renew()
      return send(method, path, options, true)
    }
    throw error
  }
}

export const api = {
  get: async (path, query, options = {}) => (await send('GET', path, { ...options, query })).body,
  post: async (path, body, options = {}) => (await send('POST', path, { ...options, body })).body,
}

/** Every page of a list, for short lists (warehouses). */
export async function all(path, field, query = {}) {
  const out = []
  let pageToken = ''
  do {
    const page = await api.get(path, { ...query, pageSize: 100, pageToken })
    out.push(...(page[field] || []))
    pageToken = page.nextPageToken || ''
  } while (pageToken)
  return out
}
