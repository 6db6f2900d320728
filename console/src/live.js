// Live stock: the gateway's server-sent events for WatchStockLevels, read with fetch (an
// EventSource cannot send the Authorization header).
//
// The first connection asks for the watched levels as they are now (send_initial_levels); its
// SNAPSHOT_COMPLETE event carries a cursor, so even a quiet stream has a place to resume from. A
// lost connection is retried with the last event's id (Last-Event-ID) and no snapshot, so the
// stream resumes exactly after it; a cursor too old to resume from starts again with a snapshot.
// "Live" is shown only once the figures are current: after SNAPSHOT_COMPLETE on a connection that
// asked for one, on opening for a resumed one. A change committed before the snapshot was read is
// in the snapshot, so it is not flashed as a change.
import { fetchEventSource } from '@microsoft/fetch-event-source'
import { useEffect, useRef, useState } from 'preact/hooks'
import { queryString } from './http.js'
import { current, renew } from './session.js'

const RETRY_MS = [500, 1_000, 2_000, 4_000, 5_000]
const LAST_EVENT_ID = 'last-event-id'
const OUT_OF_RANGE = 11
const SNAPSHOT_COMPLETE = 'WATCH_EVENT_TYPE_SNAPSHOT_COMPLETE'

class Fatal extends Error {}

/**
 * Watches `skus` of a warehouse and calls `onLevel(stockLevel, change)` for each level sent:
 * `change` is the movement for a change, null for a level as it stood when the watch began.
 * Answers `{state, since, error, resumedAfter}`; state is connecting, live, away or failed.
 */
export function useLiveStock(parent, skus, onLevel) {
  const watched = skus.join('\n')
  const key = `${parent}\n${watched}`
  const [reported, report] = useState({ key: '', state: 'connecting' })
  const handler = useRef(onLevel)
  handler.current = onLevel
  useEffect(() => {
    if (!parent || !watched) return undefined
    // Each status names the watch it is about, so a new watch never shows the last one's.
    const setStatus = (status) => report({ ...status, key })
    const controller = new AbortController()
    const headers = { Accept: 'text/event-stream' }
    const base = `/v1/${parent}/stockLevels:watch`
    const query = { skus: watched.split('\n') }
    let attempt = 0
    let awaySince = null
    let snapshotting = false
    let away = 0
    const live = () => setStatus({ state: 'live', since: null, error: null, resumedAfter: away })
    setStatus({ state: 'connecting', since: null, error: null })
    fetchEventSource(base + queryString(query), {
      signal: controller.signal,
      openWhenHidden: true,
      headers,
      fetch: (url, init) => {
        // A resumed stream names its cursor and takes no snapshot; the token is read each time,
        // so a renewed one is used after a drop.
        const resuming = Boolean(init.headers[LAST_EVENT_ID])
        snapshotting = !resuming
        const target = resuming ? url : base + queryString({ ...query, sendInitialLevels: true })
        const token = current()?.tokens.accessToken || ''
        return fetch(target, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } })
      },
      async onopen(response) {
        if (response.ok && response.headers.get('content-type')?.startsWith('text/event-stream')) {
          attempt = 0
          away = awaySince ? Date.now() - awaySince : 0
          awaySince = null
          if (!snapshotting) live()
          return
        }
        const body = await response.json().catch(() => ({}))
        if (body?.details?.some((d) => d.reason === 'TOKEN_EXPIRED')) {
          await renew()
          throw new Error('the access token was renewed')
        }
        if (body?.code === OUT_OF_RANGE) {
          delete headers[LAST_EVENT_ID]
          throw new Error('too long away to resume: starting again from the current levels')
        }
        // Any other refusal (an unknown warehouse, no permission) will not get better by retrying.
        if (response.status >= 400 && response.status < 500 && response.status !== 429) {
          throw new Fatal(body?.message || `HTTP ${response.status}`)
        }
        throw new Error(body?.message || `HTTP ${response.status}`)
      },
      onmessage(event) {
        if (event.event === 'error') throw new Error(JSON.parse(event.data || '{}').message || 'the stream failed')
        if (!event.data) return
        const message = JSON.parse(event.data)
        if (message.type === SNAPSHOT_COMPLETE && snapshotting) {
          snapshotting = false
          live()
        }
        if (message.stockLevel) handler.current(message.stockLevel, message.movement || null)
      },
      onclose() {
        // The server ended the stream (a restart, a deploy, its time limit): resume after the last event.
        throw new Error('the server closed the stream')
      },
      onerror(error) {
        if (error instanceof Fatal) {
          setStatus({ state: 'failed', since: null, error })
          throw error
        }
        awaySince = awaySince || Date.now()
        setStatus({ state: 'away', since: awaySince, error })
        return RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)]
      },
    }).catch(() => {})
    return () => controller.abort()
  }, [key])
  return reported.key === key ? reported : { state: 'connecting', since: null, error: null }
}
