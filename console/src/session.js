// Who is signed in: tokens kept for this browser tab (sessionStorage), renewed a minute before
// the access token expires, and what the user's roles may do, read from the API's own OpenAPI
// document (each operation's x-stockmesh-roles), so no role rule is written twice.
import { useEffect, useState } from 'preact/hooks'
import { ApiError, exchange } from './http.js'

const KEY = 'stockmesh.session'
const RENEW_BEFORE_MS = 60_000

let state = restore()
let permissions = null // operationId -> roles, or null until /openapi.json is read
let farewell = '' // why the last session ended, shown on the sign-in screen
let timer = 0
let renewing = null
const listeners = new Set()

function restore() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || 'null')
  } catch {
    return null
  }
}

function publish(next) {
  state = next
  if (next) sessionStorage.setItem(KEY, JSON.stringify(next))
  else sessionStorage.removeItem(KEY)
  schedule()
  for (const listener of listeners) listener(next)
}

function schedule() {
  clearTimeout(timer)
  if (!state) return
  const expires = Date.parse(state.tokens.accessTokenExpireTime)
  const wait = Math.max(1_000, expires - Date.now() - RENEW_BEFORE_MS)
  timer = setTimeout(() => renew().catch(() => {}), wait)
}

export function current() {
  return state
}

export function useSession() {
  const [value, setValue] = useState(state)
  useEffect(() => {
    listeners.add(setValue)
    return () => listeners.delete(setValue)
  }, [])
  return value
}

export function takeFarewell() {
  const message = farewell
  farewell = ''
  return message
}

export async function signIn(tenant, email, password) {
  const { body } = await exchange('POST', '/v1/auth:login', { body: { tenant, email, password } })
  await loadPermissions()
  publish({ tenant, user: body.user, tokens: body.tokens })
}

/** A new access token from the refresh token; one renewal at a time, shared by every caller. */
export function renew() {
  if (!state) return Promise.reject(new ApiError(401, { code: 16, message: 'Not signed in.' }))
  if (!renewing) {
    const refreshToken = state.tokens.refreshToken
    renewing = exchange('POST', '/v1/auth:refresh', { body: { refreshToken } })
      .then(({ body }) => {
        if (state) publish({ ...state, tokens: body.tokens })
      })
      .catch((error) => {
        if (error instanceof ApiError && error.status === 401) {
          end('Your session has ended; sign in again.')
        }
        throw error
      })
      .finally(() => {
        renewing = null
      })
  }
  return renewing
}

function end(message) {
  farewell = message
  publish(null)
}

export async function signOut() {
  const refreshToken = state?.tokens.refreshToken
  end('You are signed out.')
  if (refreshToken) {
    // The refresh token is revoked server-side; the access token simply runs out.
    await exchange('POST', '/v1/auth:logout', { body: { refreshToken } }).catch(() => {})
  }
}

export async function loadPermissions() {
  if (permissions) return
  const { body } = await exchange('GET', '/openapi.json')
  const found = {}
  for (const operations of Object.values(body.paths || {})) {
    for (const operation of Object.values(operations)) {
      if (operation?.operationId) found[operation.operationId] = operation['x-stockmesh-roles'] || []
    }
  }
  permissions = found
}

export function roles() {
  return (state?.user?.roles || []).map((role) => role.replace(/^ROLE_/, '').toLowerCase())
}

/** Whether the signed-in user's roles may call an operation (by its OpenAPI operationId). */
export function can(operationId) {
  const allowed = permissions?.[operationId]
  if (!allowed) return false
  return roles().some((role) => allowed.includes(role))
}

export function permissionsLoaded() {
  return permissions !== null
}
