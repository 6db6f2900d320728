// The pieces every screen shares: loading a resource, paging a list, showing the API's error
// next to what caused it, and choosing a warehouse.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { all } from './api.js'
import { html } from './html.js'

/** The API's message, and each field or precondition it names, where the failed action is. */
export function ErrorNote({ error, id }) {
  if (!error) return null
  return html`<div class="error" role="alert" id=${id}>
    <p>${error.message}</p>
    ${error.fields?.length > 0 &&
    html`<ul>
      ${error.fields.map((f) => html`<li key=${f.field}><code>${f.field}</code>: ${f.description}</li>`)}
    </ul>`}
    ${error.violations?.length > 0 &&
    html`<ul>
      ${error.violations.map((v, i) => html`<li key=${i}>${v.subject ? html`<code>${v.subject}</code>: ` : ''}${v.description}</li>`)}
    </ul>`}
  </div>`
}

export function Notice({ children }) {
  return children ? html`<p class="notice" role="status">${children}</p>` : null
}

/** Loads with `load()` whenever `deps` change; a stale answer never overwrites a newer one. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true })
  const generation = useRef(0)
  const run = useCallback(() => {
    const mine = ++generation.current
    setState((s) => ({ ...s, loading: true, error: null }))
    load().then(
      (data) => mine === generation.current && setState({ data, error: null, loading: false }),
      (error) => mine === generation.current && setState({ data: null, error, loading: false }),
    )
  }, deps)
  useEffect(run, [run])
  return { ...state, reload: run, setData: (data) => setState((s) => ({ ...s, data })) }
}

/** A keyset-paged list: `fetch(pageToken)` answers `{items, next}`. Earlier tokens are kept for
 * "Previous"; new filters (`deps`, plain values) start again at the first page, since the API ties a
 * page token to the filters it was issued for. */
export function usePaged(fetch, deps) {
  const key = JSON.stringify(deps)
  const [paging, setPaging] = useState({ key, tokens: [''] })
  const tokens = paging.key === key ? paging.tokens : ['']
  const token = tokens[tokens.length - 1]
  const page = useLoad(async () => ({ ...(await fetch(token)), key }), [key, token])
  // Rows of other filters are never shown as if they answered these (a new page of the same
  // filters keeps the old rows until it arrives, so paging does not flicker).
  const data = page.data?.key === key ? page.data : null
  return {
    ...page,
    data,
    number: tokens.length,
    hasPrevious: tokens.length > 1,
    hasNext: Boolean(data?.next),
    previous: () => setPaging({ key, tokens: tokens.slice(0, -1) }),
    next: () => data?.next && setPaging({ key, tokens: [...tokens, data.next] }),
  }
}

export function Pager({ paged, label }) {
  if (!paged.hasPrevious && !paged.hasNext) return null
  return html`<nav class="pager" aria-label=${`${label} pages`}>
    <button type="button" onClick=${paged.previous} disabled=${!paged.hasPrevious}>Previous</button>
    <span>Page ${paged.number}</span>
    <button type="button" onClick=${paged.next} disabled=${!paged.hasNext}>Next</button>
  </nav>`
}

export function Loading({ state, children }) {
  if (state.error) return html`<${ErrorNote} error=${state.error} />`
  if (state.loading && !state.data) return html`<p class="muted" role="status">Loading…</p>`
  return children
}

let warehouses = null
export function useWarehouses() {
  return useLoad(async () => {
    warehouses = warehouses || (await all('/v1/warehouses', 'warehouses'))
    return warehouses
  }, [])
}

const REMEMBERED = 'stockmesh.warehouse'

/** The warehouse a screen works in, remembered for the next screen. */
export function useWarehouse(initial) {
  const list = useWarehouses()
  const [chosen, setChosen] = useState(initial || localStorage.getItem(REMEMBERED) || '')
  const found = list.data?.find((w) => w.name === chosen) || list.data?.[0]
  const choose = (name) => {
    localStorage.setItem(REMEMBERED, name)
    setChosen(name)
  }
  return { list, warehouse: found?.name || '', current: found, choose }
}

export function WarehousePicker({ state, id = 'warehouse' }) {
  return html`<${Field} label="Warehouse" id=${id}>
    <select id=${id} value=${state.warehouse} onChange=${(e) => state.choose(e.currentTarget.value)}>
      ${(state.list.data || []).map((w) => html`<option key=${w.name} value=${w.name}>${w.code} · ${w.displayName}</option>`)}
    </select>
  <//>`
}

/** A labelled control. The label sits beside the control, not around it: a wrapping label would
 * put the control's current value into its accessible name ("Reason Unwanted"). */
export function Field({ label, id, children, hint }) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${children}
    ${hint && html`<small>${hint}</small>`}
  </div>`
}
