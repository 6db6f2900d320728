// Orders: a filtered, paged list, and one order with what may be done to it next: ship it,
// cancel it, or take back what the customer returned.
import { useState } from 'preact/hooks'
import { api } from '../api.js'
import { count, enumLabel, id, int, money, when } from '../format.js'
import { html } from '../html.js'
import { newKey } from '../http.js'
import { href, navigate } from '../router.js'
import { can } from '../session.js'
import { ErrorNote, Field, Loading, Pager, useLoad, usePaged, useWarehouses } from '../ui.js'

const STATUSES = ['RESERVED', 'SHIPPED', 'PARTIALLY_RETURNED', 'RETURNED', 'CANCELLED', 'EXPIRED'].map((s) => `ORDER_STATUS_${s}`)
const CHANNELS = ['POS', 'WEB_SHOP', 'MARKETPLACE', 'PHONE', 'WHOLESALE', 'OTHER'].map((c) => `SALES_CHANNEL_${c}`)
const RETURN_REASONS = ['DAMAGED', 'WRONG_ITEM', 'NOT_AS_DESCRIBED', 'UNWANTED', 'UNDELIVERABLE', 'OTHER'].map((r) => `RETURN_REASON_${r}`)
const status = (o) => enumLabel(o.status, 'ORDER_STATUS_')

export function OrdersScreen({ route }) {
  const filters = { status: route.params.get('status') || '', channel: route.params.get('channel') || '', warehouse: route.params.get('warehouse') || '' }
  const warehouses = useWarehouses()
  const paged = usePaged(async (pageToken) => {
    const reply = await api.get('/v1/orders', {
      statuses: filters.status || undefined,
      channel: filters.channel || undefined,
      warehouse: filters.warehouse || undefined,
      pageSize: 20,
      pageToken,
    })
    return { items: reply.orders || [], next: reply.nextPageToken }
  }, [filters.status, filters.channel, filters.warehouse])
  const filter = (field) => (event) => navigate('/orders', { ...filters, [field]: event.currentTarget.value })
  const where = (name) => warehouses.data?.find((w) => w.name === name)?.code || id(name)
  return html`<section aria-labelledby="orders-title">
    <h1 id="orders-title">Orders</h1>
    <div class="toolbar" role="group" aria-label="Filters">
      <${Field} label="Status" id="order-status"><select id="order-status" value=${filters.status} onChange=${filter('status')}>
        <option value="">Any status</option>${STATUSES.map((s) => html`<option key=${s} value=${s}>${enumLabel(s, 'ORDER_STATUS_')}</option>`)}
      </select><//>
      <${Field} label="Channel" id="order-channel"><select id="order-channel" value=${filters.channel} onChange=${filter('channel')}>
        <option value="">Any channel</option>${CHANNELS.map((c) => html`<option key=${c} value=${c}>${enumLabel(c, 'SALES_CHANNEL_')}</option>`)}
      </select><//>
      <${Field} label="Warehouse" id="order-warehouse"><select id="order-warehouse" value=${filters.warehouse} onChange=${filter('warehouse')}>
        <option value="">Any warehouse</option>${(warehouses.data || []).map((w) => html`<option key=${w.name} value=${w.name}>${w.code}</option>`)}
      </select><//>
    </div>
    <${Loading} state=${paged}>
      ${paged.data?.items.length === 0 && html`<p role="status">No orders match these filters.</p>`}
      ${paged.data?.items.length > 0 && html`<div class="scroll"><table>
        <caption class="sr-only">Orders</caption>
        <thead><tr><th scope="col">Number</th><th scope="col">Status</th><th scope="col">Channel</th><th scope="col">Warehouse</th><th scope="col">Customer</th><th scope="col" class="num">Total</th><th scope="col">Ordered</th></tr></thead>
        <tbody>${paged.data.items.map((o) => html`<tr key=${o.name}>
          <th scope="row"><a href=${href(`/orders/${id(o.name)}`)}>${o.number}</a></th>
          <td>${status(o)}</td><td>${enumLabel(o.channel, 'SALES_CHANNEL_')}</td><td>${where(o.warehouse)}</td>
          <td>${o.customer}</td><td class="num">${money(o.total)}</td><td>${when(o.orderTime)}</td>
        </tr>`)}</tbody>
      </table></div>`}
    <//>
    <${Pager} paged=${paged} label="Orders" />
  </section>`
}

export function OrderScreen({ route }) {
  const name = `orders/${route.parts[1]}`
  const order = useLoad(async () => (await api.get(`/v1/${name}`)).order, [name])
  const o = order.data
  const open = o?.status === 'ORDER_STATUS_RESERVED'
  const returnable = o && ['ORDER_STATUS_SHIPPED', 'ORDER_STATUS_PARTIALLY_RETURNED'].includes(o.status)
  return html`<section aria-labelledby="order-title">
    <p><a href=${href('/orders')}>← Back to orders</a></p>
    <${Loading} state=${order}>
      ${o && html`<h1 id="order-title">${o.number} <span class="badge">${status(o)}</span></h1>
        <p class="muted">${enumLabel(o.channel, 'SALES_CHANNEL_')}${o.customer ? ` · ${o.customer}` : ''} · ordered ${when(o.orderTime)} · total ${money(o.total)}
          ${o.holdExpireTime && open ? ` · reservation held until ${when(o.holdExpireTime)}` : ''}
          ${o.shipment ? ` · shipped ${when(o.shipment.shipTime)}${o.shipment.carrier ? ` with ${o.shipment.carrier}` : ''}${o.shipment.trackingNumber ? ` (${o.shipment.trackingNumber})` : ''}` : ''}
          ${o.cancelReason ? ` · cancelled: ${o.cancelReason}` : ''}</p>
        <div class="scroll"><table>
          <caption class="sr-only">Lines of ${o.number}</caption>
          <thead><tr><th scope="col">SKU</th><th scope="col" class="wide-only">Item</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Shipped</th><th scope="col" class="num">Returned</th><th scope="col" class="num">Line total</th></tr></thead>
          <tbody>${o.lines.map((l) => html`<tr key=${l.sku}><th scope="row">${l.sku}</th><td class="wide-only">${l.description}</td><td class="num">${count(l.quantity)}</td><td class="num">${count(l.shippedQuantity)}</td><td class="num">${count(l.returnedQuantity)}</td><td class="num">${money(l.lineTotal)}</td></tr>`)}</tbody>
        </table></div>
        ${open && can('OrderService_ShipOrder') && html`<${Ship} order=${o} onDone=${order.reload} />`}
        ${open && can('OrderService_CancelOrder') && html`<${Cancel} order=${o} onDone=${order.reload} />`}
        ${returnable && can('OrderService_ReturnOrder') && html`<${Return} order=${o} onDone=${order.reload} />`}`}
    <//>
  </section>`
}

/** A form that posts one action on the order, with its etag (a stale page is refused) and a request id kept until it succeeds. */
function useAction(order, verb, onDone) {
  const [key, setKey] = useState(newKey)
  const [state, setState] = useState({ busy: false, error: null })
  const run = async (body) => {
    setState({ busy: true, error: null })
    try {
      await api.post(`/v1/${order.name}:${verb}`, body, { key, etag: order.etag })
      setKey(newKey())
      setState({ busy: false, error: null })
      onDone()
    } catch (error) {
      setState({ busy: false, error })
    }
  }
  return [state, run]
}

function Ship({ order, onDone }) {
  const [carrier, setCarrier] = useState('')
  const [tracking, setTracking] = useState('')
  const [state, run] = useAction(order, 'ship', onDone)
  return html`<form class="panel" aria-labelledby="ship-title" onSubmit=${(e) => { e.preventDefault(); run({ carrier, trackingNumber: tracking }) }}>
    <h2 id="ship-title">Ship</h2>
    <div class="row">
      <${Field} label="Carrier" id="ship-carrier"><input id="ship-carrier" value=${carrier} onInput=${(e) => setCarrier(e.currentTarget.value)} /><//>
      <${Field} label="Tracking number" id="ship-tracking"><input id="ship-tracking" value=${tracking} onInput=${(e) => setTracking(e.currentTarget.value)} /><//>
      <button type="submit" disabled=${state.busy}>Ship order</button>
    </div>
    <${ErrorNote} error=${state.error} />
  </form>`
}

function Cancel({ order, onDone }) {
  const [reason, setReason] = useState('')
  const [state, run] = useAction(order, 'cancel', onDone)
  return html`<form class="panel" aria-labelledby="cancel-title" onSubmit=${(e) => { e.preventDefault(); run({ reason }) }}>
    <h2 id="cancel-title">Cancel</h2>
    <div class="row">
      <${Field} label="Reason" id="cancel-reason"><input id="cancel-reason" value=${reason} onInput=${(e) => setReason(e.currentTarget.value)} /><//>
      <button type="submit" class="danger" disabled=${state.busy}>Cancel order</button>
    </div>
    <${ErrorNote} error=${state.error} />
  </form>`
}

function Return({ order, onDone }) {
  const [quantities, setQuantities] = useState({})
  const [reason, setReason] = useState('RETURN_REASON_UNWANTED')
  const [note, setNote] = useState('')
  const [state, run] = useAction(order, 'return', () => {
    setQuantities({})
    onDone()
  })
  const lines = Object.entries(quantities).filter(([, q]) => int(q) > 0).map(([sku, quantity]) => ({ sku, quantity }))
  return html`<form class="panel" aria-labelledby="return-title" onSubmit=${(e) => { e.preventDefault(); run({ lines, reason, note }) }}>
    <h2 id="return-title">Return</h2>
    <div class="row">
      ${order.lines.map((l) => html`<${Field} key=${l.sku} label=${`${l.sku} (shipped ${count(l.shippedQuantity)}, returned ${count(l.returnedQuantity)})`} id=${`return-${l.sku}`}>
        <input id=${`return-${l.sku}`} type="number" min="0" value=${quantities[l.sku] || ''} placeholder="0" onInput=${(e) => setQuantities({ ...quantities, [l.sku]: e.currentTarget.value })} /><//>`)}
    </div>
    <div class="row">
      <${Field} label="Reason" id="return-reason"><select id="return-reason" value=${reason} onChange=${(e) => setReason(e.currentTarget.value)}>
        ${RETURN_REASONS.map((r) => html`<option key=${r} value=${r}>${enumLabel(r, 'RETURN_REASON_')}</option>`)}
      </select><//>
      <${Field} label="Note" id="return-note"><input id="return-note" value=${note} onInput=${(e) => setNote(e.currentTarget.value)} /><//>
      <button type="submit" disabled=${state.busy || lines.length === 0}>Book return</button>
    </div>
    <${ErrorNote} error=${state.error} />
  </form>`
}


