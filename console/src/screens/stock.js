// Stock: the levels of a warehouse, searchable by SKU, name or barcode, kept current by the
// live stream while the screen is open.
import { useState } from 'preact/hooks'
import { api } from '../api.js'
import { names, searchSkus } from '../catalog.js'
import { count } from '../format.js'
import { html } from '../html.js'
import { LiveStatus, useLiveLevels } from '../levels.js'
import { href, navigate } from '../router.js'
import { Field, Loading, Pager, usePaged, useWarehouse, WarehousePicker } from '../ui.js'

const PAGE = 25

async function page(warehouse, search, pageToken) {
  if (!warehouse) return { items: [], next: '', names: {} }
  let found = null
  if (search) {
    found = await searchSkus(search)
    if (found.skus.length === 0) return { items: [], next: '', names: {}, found }
  }
  const reply = await api.get(`/v1/${warehouse}/stockLevels`, {
    pageSize: PAGE,
    pageToken,
    skus: found?.skus,
  })
  const items = reply.stockLevels || []
  return { items, next: reply.nextPageToken, names: await names(items.map((l) => l.sku)), found }
}

export function StockScreen({ route }) {
  const place = useWarehouse(route.params.get('warehouse'))
  const search = route.params.get('q') || ''
  const [typed, setTyped] = useState(search)
  const paged = usePaged((token) => page(place.warehouse, search, token), [place.warehouse, search])
  const live = useLiveLevels(place.warehouse, paged.data?.items.map((l) => l.sku) || [])
  const submit = (event) => {
    event.preventDefault()
    navigate('/stock', { q: typed.trim(), warehouse: place.warehouse })
  }
  const data = paged.data
  return html`<section aria-labelledby="stock-title">
    <header class="screen-head">
      <h1 id="stock-title">Stock</h1>
      <${LiveStatus} status=${live.status} />
    </header>
    <div class="toolbar">
      <${WarehousePicker} state=${place} />
      <form role="search" class="search" onSubmit=${submit}>
        <${Field} label="SKU, name or barcode" id="stock-search">
          <input id="stock-search" type="search" value=${typed} onInput=${(e) => setTyped(e.currentTarget.value)} autocomplete="off" />
        <//>
        <button type="submit">Search</button>
      </form>
    </div>
    <${Loading} state=${paged}>
      ${data?.found?.skus.length === 0 && html`<p role="status">Nothing in the catalog matches “${search}”.</p>`}
      ${data?.found?.more && html`<p class="notice" role="status">Showing the first ${data.found.skus.length} matching variants; refine the search to see others.</p>`}
      ${data && data.items.length === 0 && !(data.found?.skus.length === 0) && html`<p role="status">No stock levels${search ? ' for these SKUs' : ''} in this warehouse.</p>`}
      ${data && data.items.length > 0 && html`<${LevelTable} levels=${data.items} names=${data.names} live=${live} />`}
    <//>
    <${Pager} paged=${paged} label="Stock levels" />
  </section>`
}

export function LevelTable({ levels, names, live, caption = 'Stock levels' }) {
  return html`<div class="scroll"><table>
    <caption class="sr-only">${caption}</caption>
    <thead><tr>
      <th scope="col">SKU</th><th scope="col" class="wide-only">Item</th>
      <th scope="col" class="num">On hand</th><th scope="col" class="num">Reserved</th>
      <th scope="col" class="num">Available</th><th scope="col" class="num">Reorder point</th>
      <th scope="col">Status</th>
    </tr></thead>
    <tbody>
      ${levels.map((row) => {
        const level = live.latest(row)
        const [, warehouse] = level.warehouse.split('/')
        return html`<tr key=${level.name} class=${live.flashing(level.name) ? 'changed' : ''} data-sku=${level.sku}>
          <th scope="row"><a href=${href(`/levels/${warehouse}/${encodeURIComponent(level.sku)}`)}>${level.sku}</a></th>
          <td class="wide-only">${names[level.sku] || ''}</td>
          <td class="num" data-field="onHand">${count(level.onHand)}</td>
          <td class="num" data-field="reserved">${count(level.reserved)}</td>
          <td class="num" data-field="available">${count(level.available)}</td>
          <td class="num">${count(level.reorderPoint)}</td>
          <td>${level.lowStock ? html`<span class="badge low">Low</span>` : html`<span class="badge ok">OK</span>`}</td>
        </tr>`
      })}
    </tbody>
  </table></div>`
}

