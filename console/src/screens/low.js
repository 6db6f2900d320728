// Low stock and replenishment: the levels at or below their reorder point, a proposal with its
// explanation, and the chosen lines turned into draft purchase orders (one per supplier).
import { useState } from 'preact/hooks'
import { api } from '../api.js'
import { names } from '../catalog.js'
import { count, days, enumLabel, id, int, money } from '../format.js'
import { html } from '../html.js'
import { newKey } from '../http.js'
import { href } from '../router.js'
import { can } from '../session.js'
import { ErrorNote, Loading, Notice, Pager, usePaged, useWarehouse, WarehousePicker } from '../ui.js'
import { LevelTable } from './stock.js'
import { LiveStatus, useLiveLevels } from '../levels.js'

export function LowStockScreen({ route }) {
  const place = useWarehouse(route.params.get('warehouse'))
  const paged = usePaged(async (pageToken) => {
    if (!place.warehouse) return { items: [], next: '', names: {} }
    const reply = await api.get(`/v1/${place.warehouse}/stockLevels:listLowStock`, { pageSize: 25, pageToken })
    const items = reply.stockLevels || []
    return { items, next: reply.nextPageToken, names: await names(items.map((l) => l.sku)) }
  }, [place.warehouse])
  const live = useLiveLevels(place.warehouse, paged.data?.items.map((l) => l.sku) || [])
  return html`<section aria-labelledby="low-title">
    <header class="screen-head"><h1 id="low-title">Low stock</h1><${LiveStatus} status=${live.status} /></header>
    <div class="toolbar"><${WarehousePicker} state=${place} /></div>
    ${can('ReplenishmentService_ProposeReplenishment') && place.warehouse && html`<${Replenishment} key=${place.warehouse} warehouse=${place.warehouse} />`}
    <${Loading} state=${paged}>
      ${paged.data?.items.length === 0 && html`<p role="status">No level in this warehouse is at or below its reorder point.</p>`}
      ${paged.data?.items.length > 0 && html`<${LevelTable} levels=${paged.data.items} names=${paged.data.names} live=${live} caption="Levels at or below their reorder point" />`}
    <//>
    <${Pager} paged=${paged} label="Low stock" />
  </section>`
}

function Replenishment({ warehouse }) {
  const [proposal, setProposal] = useState({ busy: false, error: null, data: null })
  const [chosen, setChosen] = useState({})
  const [created, setCreated] = useState({ busy: false, error: null, orders: null, key: newKey() })
  const propose = async () => {
    setProposal({ busy: true, error: null, data: null })
    setCreated({ busy: false, error: null, orders: null, key: newKey() })
    try {
      const data = await api.get('/v1/replenishment:propose', { warehouse })
      const picks = {}
      for (const p of data.proposals || []) if (p.status === 'PROPOSAL_STATUS_PROPOSED') picks[p.sku] = String(int(p.suggestedQuantity))
      setChosen(picks)
      setProposal({ busy: false, error: null, data })
    } catch (error) {
      setProposal({ busy: false, error, data: null })
    }
  }
  const create = async (event) => {
    event.preventDefault()
    const lines = (proposal.data.proposals || [])
      .filter((p) => chosen[p.sku] !== undefined && int(chosen[p.sku]) > 0)
      .map((p) => ({ sku: p.sku, supplierItem: p.supplierItem, quantity: chosen[p.sku] }))
    setCreated((c) => ({ ...c, busy: true, error: null }))
    try {
      const reply = await api.post('/v1/replenishment:createPurchaseOrders', { warehouse, lines, note: 'From a replenishment proposal' }, { key: created.key })
      setCreated({ busy: false, error: null, orders: reply.purchaseOrders || [], key: newKey() })
    } catch (error) {
      setCreated((c) => ({ ...c, busy: false, error }))
    }
  }
  const proposals = proposal.data?.proposals || []
  const mayCreate = can('ReplenishmentService_CreatePurchaseOrdersFromProposal')
  return html`<section class="panel" aria-labelledby="replenish-title">
    <h2 id="replenish-title">Replenishment</h2>
    <button type="button" onClick=${propose} disabled=${proposal.busy}>${proposal.busy ? 'Proposing…' : 'Propose replenishment'}</button>
    <${ErrorNote} error=${proposal.error} />
    ${proposal.data && html`<p class="muted">Demand over ${days(proposal.data.demandWindow)}, covering ${days(proposal.data.coverage)}; ${proposals.length} low level${proposals.length === 1 ? '' : 's'} considered${proposal.data.truncated ? ' (truncated: only the first ones)' : ''}.</p>`}
    ${proposals.length > 0 && html`<form onSubmit=${create} aria-label="Create draft purchase orders">
      <div class="scroll"><table>
        <caption class="sr-only">Replenishment proposal</caption>
        <thead><tr>${mayCreate && html`<th scope="col">Order</th>`}<th scope="col">SKU</th><th scope="col">Status</th><th scope="col" class="num">Available</th><th scope="col" class="num">Position</th><th scope="col" class="num">Daily demand</th><th scope="col" class="num">Quantity</th><th scope="col">Supplier item</th><th scope="col" class="num">Line total</th><th scope="col">Why</th></tr></thead>
        <tbody>${proposals.map((p) => {
          const proposed = p.status === 'PROPOSAL_STATUS_PROPOSED'
          return html`<tr key=${p.sku}>
            ${mayCreate && html`<td>${proposed && html`<input type="checkbox" aria-label=${`Order ${p.sku}`} checked=${chosen[p.sku] !== undefined}
              onChange=${(e) => setChosen((c) => { const n = { ...c }; if (e.currentTarget.checked) n[p.sku] = String(int(p.suggestedQuantity)); else delete n[p.sku]; return n })} />`}</td>`}
            <th scope="row">${p.sku}</th>
            <td>${enumLabel(p.status, 'PROPOSAL_STATUS_')}</td>
            <td class="num">${count(p.available)}</td>
            <td class="num">${count(p.inventoryPosition)}</td>
            <td class="num">${(p.dailyDemand || 0).toFixed(2)}</td>
            <td class="num">${proposed && mayCreate && chosen[p.sku] !== undefined
              ? html`<input type="number" min="1" aria-label=${`Quantity of ${p.sku}`} value=${chosen[p.sku]} onInput=${(e) => setChosen({ ...chosen, [p.sku]: e.currentTarget.value })} />`
              : count(p.suggestedQuantity)}</td>
            <td>${p.supplierSku || ''}</td>
            <td class="num">${money(p.lineTotal)}</td>
            <td><details><summary>Explanation</summary><p>${p.explanation}</p></details></td>
          </tr>`
        })}</tbody>
      </table></div>
      ${mayCreate && html`<button type="submit" disabled=${created.busy || Object.keys(chosen).length === 0}>Create draft purchase orders</button>`}
      <${ErrorNote} error=${created.error} />
    </form>`}
    ${created.orders && html`<${Notice}>Created ${created.orders.length} draft purchase order${created.orders.length === 1 ? '' : 's'}:
      ${created.orders.map((po, i) => html`${i ? ', ' : ' '}<a href=${href(`/purchase-orders/${id(po.name)}`)}>${po.number}</a> (${money(po.total)})`)}<//>`}
  </section>`
}
