// A level's history: its figures (live), its movements (who, why, when, which request), a chart of
// on hand over time, and what the user's role may do to it.
import { useState } from 'preact/hooks'
import { api } from '../api.js'
import { names } from '../catalog.js'
import { OnHandChart } from '../chart.js'
import { count, enumLabel, id, int, when } from '../format.js'
import { html } from '../html.js'
import { newKey } from '../http.js'
import { LiveStatus, useLiveLevels } from '../levels.js'
import { href } from '../router.js'
import { can, current } from '../session.js'
import { ErrorNote, Field, Loading, Notice, Pager, useLoad, usePaged } from '../ui.js'

const CHART_MOVEMENTS = 200

function who(movement) {
  if (movement.user) return movement.user === current()?.user?.name ? 'you' : `user ${id(movement.user).slice(0, 8)}`
  const account = (movement.caller || '').split('/sa/')[1]
  return account ? `service ${account}` : 'system'
}

function change(movement) {
  const parts = []
  if (int(movement.quantityDelta)) parts.push(`${int(movement.quantityDelta) > 0 ? '+' : ''}${count(movement.quantityDelta)} on hand`)
  if (int(movement.reservedDelta)) parts.push(`${int(movement.reservedDelta) > 0 ? '+' : ''}${count(movement.reservedDelta)} reserved`)
  return parts.join(', ') || '0'
}

export function LevelScreen({ route }) {
  const [, warehouseId, sku] = route.parts
  const warehouse = `warehouses/${warehouseId}`
  const name = `${warehouse}/stockLevels/${sku}`
  const level = useLoad(async () => {
    const [reply, label] = await Promise.all([api.get(`/v1/${name}`), names([sku])])
    return { ...reply.stockLevel, label: label[sku] || '' }
  }, [name])
  const [tick, setTick] = useState(0)
  const history = usePaged(async (pageToken) => {
    const reply = await api.get('/v1/movements', { warehouse, sku, newestFirst: true, pageSize: 20, pageToken })
    return { items: reply.movements || [], next: reply.nextPageToken }
  }, [warehouse, sku, tick])
  const chart = useLoad(async () => {
    const reply = await api.get('/v1/movements', { warehouse, sku, newestFirst: true, pageSize: CHART_MOVEMENTS })
    return reply.movements || []
  }, [warehouse, sku, tick])
  const live = useLiveLevels(warehouse, [sku], () => setTick((t) => t + 1))
  const shown = level.data ? live.latest(level.data) : null
  return html`<section aria-labelledby="level-title">
    <header class="screen-head">
      <h1 id="level-title">${sku}</h1>
      <${LiveStatus} status=${live.status} />
    </header>
    <p><a href=${href('/stock', { warehouse })}>← Back to stock</a></p>
    <${Loading} state=${level}>
      ${shown && html`<p class="muted">${level.data.label}</p>
        <dl class=${`figures ${live.flashing(name) ? 'changed' : ''}`}>
          <div><dt>On hand</dt><dd data-field="onHand">${count(shown.onHand)}</dd></div>
          <div><dt>Reserved</dt><dd data-field="reserved">${count(shown.reserved)}</dd></div>
          <div><dt>Available</dt><dd data-field="available">${count(shown.available)}</dd></div>
          <div><dt>Reorder point</dt><dd>${count(shown.reorderPoint)}</dd></div>
          <div><dt>Reorder quantity</dt><dd>${count(shown.reorderQuantity)}</dd></div>
        </dl>
        <div class="actions">
          ${can('StockService_RecordCycleCount') && html`<a class="button" href=${href('/counts', { warehouse, sku, mode: 'count' })}>Count</a>`}
          ${can('StockService_AdjustStock') && html`<a class="button" href=${href('/counts', { warehouse, sku, mode: 'adjust' })}>Adjust</a>`}
        </div>
        ${can('StockService_SetReorderPolicy') && html`<${ReorderPolicy} level=${shown} onSaved=${level.reload} />`}`}
    <//>
    <h2>On hand over time</h2>
    <${Loading} state=${chart}>${chart.data && html`<${OnHandChart} movements=${chart.data} title=${sku} />`}<//>
    <h2>Movements</h2>
    <${Loading} state=${history}>
      ${history.data && html`<div class="scroll"><table>
        <caption class="sr-only">Movements of ${sku}, newest first</caption>
        <thead><tr>
          <th scope="col">When</th><th scope="col">Type</th><th scope="col">Change</th>
          <th scope="col" class="num">On hand after</th><th scope="col">Why</th><th scope="col">Who</th><th scope="col">Request</th>
        </tr></thead>
        <tbody>
          ${history.data.items.map((m) => html`<tr key=${m.name}>
            <td>${when(m.createTime)}</td>
            <td>${enumLabel(m.type, 'MOVEMENT_TYPE_')}</td>
            <td>${change(m)}</td>
            <td class="num">${count(m.onHandAfter)}</td>
            <td>${[m.reason !== 'ADJUSTMENT_REASON_UNSPECIFIED' && enumLabel(m.reason, 'ADJUSTMENT_REASON_'), m.reference, m.note].filter(Boolean).join(' · ')}</td>
            <td>${who(m)}</td>
            <td><code title=${m.traceId ? `trace ${m.traceId}` : ''}>${m.requestId}</code></td>
          </tr>`)}
        </tbody>
      </table></div>`}
    <//>
    <${Pager} paged=${history} label="Movements" />
  </section>`
}

function ReorderPolicy({ level, onSaved }) {
  const [point, setPoint] = useState(String(int(level.reorderPoint)))
  const [quantity, setQuantity] = useState(String(int(level.reorderQuantity)))
  const [state, setState] = useState({ busy: false, error: null, done: '' })
  const [key, setKey] = useState(newKey)
  const save = async (event) => {
    event.preventDefault()
    setState({ busy: true, error: null, done: '' })
    try {
      await api.post(`/v1/${level.name}:setReorderPolicy`, { reorderPoint: point, reorderQuantity: quantity }, { key, etag: level.etag })
      setKey(newKey())
      setState({ busy: false, error: null, done: 'Reorder policy saved.' })
      onSaved()
    } catch (error) {
      setState({ busy: false, error, done: '' })
    }
  }
  return html`<form class="panel" onSubmit=${save} aria-labelledby="policy-title">
    <h2 id="policy-title">Reorder policy</h2>
    <div class="row">
      <${Field} label="Reorder point" id="reorder-point"><input id="reorder-point" type="number" min="0" value=${point} onInput=${(e) => setPoint(e.currentTarget.value)} /><//>
      <${Field} label="Reorder quantity" id="reorder-quantity"><input id="reorder-quantity" type="number" min="0" value=${quantity} onInput=${(e) => setQuantity(e.currentTarget.value)} /><//>
      <button type="submit" disabled=${state.busy}>Save policy</button>
    </div>
    <${ErrorNote} error=${state.error} />
    <${Notice}>${state.done}<//>
  </form>`
}
