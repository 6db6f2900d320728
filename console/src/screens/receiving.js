// Receiving: the open purchase orders, and one order received by scanning what arrived. Partial
// receipts are fine; more than was ordered is refused by the API, whose message is shown.
import { useState } from 'preact/hooks'
import { api } from '../api.js'
import { names } from '../catalog.js'
import { count, enumLabel, id, int, money, when } from '../format.js'
import { html } from '../html.js'
import { newKey } from '../http.js'
import { href } from '../router.js'
import { ScanField } from '../scan.js'
import { can } from '../session.js'
import { ErrorNote, Field, Loading, Notice, Pager, useLoad, usePaged, useWarehouses } from '../ui.js'

const STATES = {
  open: ['PURCHASE_ORDER_STATE_SUBMITTED', 'PURCHASE_ORDER_STATE_PARTIALLY_RECEIVED'],
  draft: ['PURCHASE_ORDER_STATE_DRAFT'],
  done: ['PURCHASE_ORDER_STATE_RECEIVED', 'PURCHASE_ORDER_STATE_CLOSED', 'PURCHASE_ORDER_STATE_CANCELLED'],
}
const state = (po) => enumLabel(po.state, 'PURCHASE_ORDER_STATE_')

export function PurchaseOrdersScreen({ route }) {
  const show = STATES[route.params.get('show')] ? route.params.get('show') : 'open'
  const warehouses = useWarehouses()
  const paged = usePaged(async (pageToken) => {
    const reply = await api.get('/v1/purchaseOrders', { states: STATES[show], pageSize: 20, pageToken })
    return { items: reply.purchaseOrders || [], next: reply.nextPageToken }
  }, [show])
  const where = (name) => warehouses.data?.find((w) => w.name === name)?.code || id(name)
  return html`<section aria-labelledby="po-title">
    <h1 id="po-title">Receiving</h1>
    <nav class="tabs" aria-label="Purchase orders to show">
      ${Object.keys(STATES).map((s) => html`<a key=${s} href=${href('/purchase-orders', { show: s })} aria-current=${s === show ? 'page' : undefined}>${{ open: 'Open', draft: 'Drafts', done: 'Done' }[s]}</a>`)}
    </nav>
    <${Loading} state=${paged}>
      ${paged.data?.items.length === 0 && html`<p role="status">No purchase orders here.</p>`}
      ${paged.data?.items.length > 0 && html`<div class="scroll"><table>
        <caption class="sr-only">Purchase orders</caption>
        <thead><tr><th scope="col">Number</th><th scope="col">State</th><th scope="col">Warehouse</th><th scope="col" class="num">Lines</th><th scope="col" class="num">Received</th><th scope="col">Expected</th></tr></thead>
        <tbody>${paged.data.items.map((po) => {
          const ordered = po.lines.reduce((n, l) => n + int(l.quantityOrdered), 0)
          const received = po.lines.reduce((n, l) => n + int(l.quantityReceived), 0)
          return html`<tr key=${po.name}>
            <th scope="row"><a href=${href(`/purchase-orders/${id(po.name)}`)}>${po.number}</a></th>
            <td>${state(po)}</td><td>${where(po.warehouse)}</td><td class="num">${po.lines.length}</td>
            <td class="num">${count(received)} / ${count(ordered)}</td><td>${when(po.expectedDeliveryTime)}</td>
          </tr>`
        })}</tbody>
      </table></div>`}
    <//>
    <${Pager} paged=${paged} label="Purchase orders" />
  </section>`
}

export function PurchaseOrderScreen({ route }) {
  const name = `purchaseOrders/${route.parts[1]}`
  const order = useLoad(async () => {
    const po = (await api.get(`/v1/${name}`)).purchaseOrder ?? null
    return { po, names: await names(po.lines.map((l) => l.sku)) }
  }, [name])
  const po = order.data?.po
  return html`<section aria-labelledby="po-detail-title">
    <p><a href=${href('/purchase-orders')}>← Back to purchase orders</a></p>
    <${Loading} state=${order}>
      ${po && html`<h1 id="po-detail-title">${po.number} <span class="badge">${state(po)}</span></h1>
        <p class="muted">Total ${money(po.total)} · received ${money(po.receivedTotal)}${po.supplierReference ? ` · supplier reference ${po.supplierReference}` : ''}</p>
        ${po.state === 'PURCHASE_ORDER_STATE_DRAFT' && can('PurchaseOrderService_SubmitPurchaseOrder') && html`<${Submit} po=${po} onDone=${order.reload} />`}
        ${STATES.open.includes(po.state) && can('PurchaseOrderService_ReceivePurchaseOrder')
          ? html`<${Receive} po=${po} names=${order.data.names} onDone=${order.reload} />`
          : html`<${Lines} po=${po} names=${order.data.names} />`}`}
    <//>
  </section>`
}

function Lines({ po, names }) {
  return html`<div class="scroll"><table>
    <caption class="sr-only">Lines of ${po.number}</caption>
    <thead><tr><th scope="col">SKU</th><th scope="col" class="wide-only">Item</th><th scope="col" class="num">Ordered</th><th scope="col" class="num">Received</th></tr></thead>
    <tbody>${po.lines.map((l) => html`<tr key=${l.sku}><th scope="row">${l.sku}</th><td class="wide-only">${names[l.sku] || ''}</td><td class="num">${count(l.quantityOrdered)}</td><td class="num">${count(l.quantityReceived)}</td></tr>`)}</tbody>
  </table></div>`
}

function Submit({ po, onDone }) {
  const [result, setResult] = useState({ busy: false, error: null })
  const submit = async () => {
    setResult({ busy: true, error: null })
    try {
      await api.post(`/v1/${po.name}:submit`, {}, { key: newKey(), etag: po.etag })
      onDone()
    } catch (error) {
      setResult({ busy: false, error })
    }
  }
  return html`<div class="actions"><button type="button" onClick=${submit} disabled=${result.busy}>Submit to supplier</button><${ErrorNote} error=${result.error} /></div>`
}

function Receive({ po, names, onDone }) {
  const [receiving, setReceiving] = useState({})
  const [deliveryNote, setDeliveryNote] = useState('')
  const [key, setKey] = useState(newKey)
  const [result, setResult] = useState({ busy: false, error: null, done: '' })
  const onOrder = new Map(po.lines.map((l) => [l.sku, l]))
  const scanned = (variant) => {
    if (!onOrder.has(variant.sku)) throw new Error(`${variant.sku} is not on ${po.number}.`)
    setReceiving((r) => ({ ...r, [variant.sku]: String(int(r[variant.sku]) + 1) }))
    return `${variant.sku}: ${int(receiving[variant.sku]) + 1} receiving now.`
  }
  const submit = async (event) => {
    event.preventDefault()
    const lines = Object.entries(receiving)
      .filter(([, q]) => int(q) !== 0)
      .map(([sku, quantity]) => ({ sku, quantity }))
    setResult({ busy: true, error: null, done: '' })
    try {
      const reply = await api.post(`/v1/${po.name}:receive`, { lines, deliveryNote }, { key, etag: po.etag })
      setKey(newKey())
      setReceiving({})
      const got = lines.reduce((n, l) => n + int(l.quantity), 0)
      setResult({ busy: false, error: null, done: `Received ${got} unit${got === 1 ? '' : 's'}; the order is now ${state(reply.purchaseOrder || po).toLowerCase()}.` })
      onDone()
    } catch (error) {
      setResult({ busy: false, error, done: '' })
    }
  }
  const total = Object.values(receiving).reduce((n, q) => n + int(q), 0)
  return html`<div>
    <${ScanField} id="receive-scan" onVariant=${scanned} />
    <form onSubmit=${submit} aria-label=${`Receive ${po.number}`}>
      <div class="scroll"><table>
        <caption class="sr-only">Lines of ${po.number}</caption>
        <thead><tr><th scope="col">SKU</th><th scope="col" class="wide-only">Item</th><th scope="col" class="num">Ordered</th><th scope="col" class="num">Received</th><th scope="col" class="num">Receive now</th></tr></thead>
        <tbody>${po.lines.map((l) => html`<tr key=${l.sku} data-sku=${l.sku}>
          <th scope="row">${l.sku}</th><td class="wide-only">${names[l.sku] || ''}</td>
          <td class="num">${count(l.quantityOrdered)}</td><td class="num">${count(l.quantityReceived)}</td>
          <td class="num"><input type="number" min="0" aria-label=${`Receiving now for ${l.sku}`} value=${receiving[l.sku] || ''} placeholder="0"
            onInput=${(e) => setReceiving({ ...receiving, [l.sku]: e.currentTarget.value })} /></td>
        </tr>`)}</tbody>
      </table></div>
      <${Field} label="Delivery note" id="delivery-note"><input id="delivery-note" value=${deliveryNote} onInput=${(e) => setDeliveryNote(e.currentTarget.value)} /><//>
      <button type="submit" disabled=${result.busy || total === 0}>Receive ${total} unit${total === 1 ? '' : 's'}</button>
      <${ErrorNote} error=${result.error} />
      <${Notice}>${result.done}<//>
    </form>
  </div>`
}
