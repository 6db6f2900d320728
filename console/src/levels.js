// Stock levels as the live stream last described them: a screen shows `latest(row)` for each row it
// loaded, and a changed row is highlighted for a moment.
import { useState } from 'preact/hooks'
import { html } from './html.js'
import { useLiveStock } from './live.js'
import { int } from './format.js'

const FLASH_MS = 2_500

/** Live figures for the levels of `skus` in `parent`; `onChange(level)` after each change. */
export function useLiveLevels(parent, skus, onChange) {
  const [seen, setSeen] = useState({})
  const status = useLiveStock(parent, skus, (level, movement) => {
    // A level as the watch began is shown as is; only a change is highlighted.
    setSeen((s) => ({ ...s, [level.name]: { level, at: movement ? Date.now() : 0 } }))
    if (!movement) return
    setTimeout(() => setSeen((s) => ({ ...s })), FLASH_MS)
    onChange?.(level)
  })
  return {
    status,
    latest(row) {
      const newer = seen[row.name]?.level
      return newer && int(newer.lastMovementSequence) >= int(row.lastMovementSequence) ? newer : row
    },
    flashing: (name) => Boolean(seen[name] && Date.now() - seen[name].at < FLASH_MS),
  }
}

export function LiveStatus({ status }) {
  const time = status.since ? new Date(status.since).toLocaleTimeString() : ''
  const text = {
    connecting: 'Connecting to live updates…',
    live: status.resumedAfter ? `Live again: caught up after ${Math.max(1, Math.round(status.resumedAfter / 1000))} s away` : 'Live',
    away: `Connection lost at ${time}; reconnecting, figures may be out of date`,
    failed: `Live updates refused: ${status.error?.message || ''}`,
  }[status.state]
  return html`<p class=${`live ${status.state}`} role="status" aria-live="polite">
    <span class="dot" aria-hidden="true"></span>${text}
  </p>`
}
