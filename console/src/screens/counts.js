// Counts and adjustments: lines built by scanning or typing SKUs, then one cycle count (what was
// counted) or one adjustment (a change with a reason code), booked all lines or none.
import { useEffect, useState } from 'preact/hooks'
import { api } from '../api.js'
import { label } from '../catalog.js'
import { enumLabel } from '../format.js'
import { html } from '../html.js'
import { newKey } from '../http.js'
import { ScanField } from '../scan.js'
import { can } from '../session.js'
import { ErrorNote, Field, Notice, useWarehouse, WarehousePicker } from '../ui.js'

export const REASONS = ['DAMAGE', 'LOSS', 'FOUND', 'CORRECTION', 'EXPIRED', 'THEFT', 'INTERNAL_USE', 'RETURN_TO_SUPPLIER', 'OTHER'].map(
  (r) => `ADJUSTMENT_REASON_${r}`,
)

const MODES = {
  count: { operation: 'StockService_RecordCycleCount', verb: 'recordCycleCount', title: 'Record count' },
  adjust: { operation: 'StockService_AdjustStock', verb: 'adjust', title: 'Book adjustment' },
}

export function CountsScreen({ route }) {
  const place = useWarehouse(route.params.get('warehouse'))
  const allowed = Object.keys(MODES).filter((m) => can(MODES[m].operation))
  const [mode, setMode] = useState(allowed.includes(route.params.get('mode')) ? route.params.get('mode') : allowed[0])
  const [lines, setLines] = useState([])
  const [note, setNote] = useState('')
  const [key, setKey] = useState(newKey)
  const [state, setState] = useState({ busy: false, error: null, done: '' })

  const add = async (variant) => {
    const existing = lines.find((l) => l.sku === variant.sku)
    if (existing) {
      // Each scan of the same item counts one more (or, adjusting, one more unit of the change).
      setLines(lines.map((l) => (l.sku === variant.sku ? { ...l, quantity: String(Number(l.quantity || 0) + (mode === 'adjust' && Number(l.quantity) < 0 ? -1 : 1)) } : l)))
      return `${variant.sku}: one more.`
    }
    setLines([...lines, { sku: variant.sku, label: label(variant), quantity: mode === 'count' ? '1' : '-1', reason: 'ADJUSTMENT_REASON_DAMAGE' }])
    return `Added ${variant.sku}.`
  }
  useEffect(() => {
    const sku = route.params.get('sku')
    if (sku && lines.length === 0) {
      api.get('/v1/products/-/variants:lookupSku', { sku }).then((r) => add(r.variant), () => {})
    }
  }, [])

  if (allowed.length === 0) return html`<section><h1>Counts and adjustments</h1><p>Your role cannot record counts or adjustments.</p></section>`
  // A counted quantity and a change mean different things: lines never carry over between the two.
  const switchMode = (next) => {
    setMode(next)
    setLines([])
    setState({ busy: false, error: null, done: '' })
  }
  const update = (sku, field, value) => setLines(lines.map((l) => (l.sku === sku ? { ...l, [field]: value } : l)))
  const submit = async (event) => {
    event.preventDefault()
    setState({ busy: true, error: null, done: '' })
    const body =
      mode === 'count'
        ? { lines: lines.map((l) => ({ sku: l.sku, countedQuantity: l.quantity })), note }
        : { lines: lines.map((l) => ({ sku: l.sku, quantityDelta: l.quantity, reason: l.reason, note })) }
    try {
      const reply = await api.post(`/v1/${place.warehouse}/stockLevels:${MODES[mode].verb}`, body, { key })
      const moved = (reply.movements || []).length
      setKey(newKey())
      setLines([])
      setNote('')
      setState({ busy: false, error: null, done: `${mode === 'count' ? 'Count recorded' : 'Adjustment booked'}: ${moved} movement${moved === 1 ? '' : 's'}.` })
    } catch (error) {
      setState({ busy: false, error, done: '' })
    }
  }
  return html`<section aria-labelledby="counts-title">
    <h1 id="counts-title">Counts and adjustments</h1>
    <div class="toolbar">
      <${WarehousePicker} state=${place} />
      <fieldset class="modes">
        <legend>What to book</legend>
        ${allowed.map((m) => html`<label key=${m}><input type="radio" name="mode" value=${m} checked=${mode === m} onChange=${() => switchMode(m)} /> ${m === 'count' ? 'Cycle count' : 'Adjustment'}</label>`)}
      </fieldset>
    </div>
    <${ScanField} id="count-scan" onVariant=${add} />
    <form onSubmit=${submit} aria-label=${MODES[mode].title}>
      ${lines.length === 0 ? html`<p class="muted">No lines yet: scan or type a SKU above.</p>` : html`<div class="scroll"><table>
        <caption class="sr-only">Lines to book</caption>
        <thead><tr><th scope="col">SKU</th><th scope="col" class="wide-only">Item</th>
          <th scope="col" class="num">${mode === 'count' ? 'Counted' : 'Change'}</th>
          ${mode === 'adjust' && html`<th scope="col">Reason</th>`}<th scope="col"><span class="sr-only">Remove</span></th></tr></thead>
        <tbody>${lines.map((l) => html`<tr key=${l.sku}>
          <th scope="row">${l.sku}</th><td class="wide-only">${l.label}</td>
          <td class="num"><input type="number" aria-label=${`${mode === 'count' ? 'Counted' : 'Change'} for ${l.sku}`} min=${mode === 'count' ? 0 : undefined} value=${l.quantity} onInput=${(e) => update(l.sku, 'quantity', e.currentTarget.value)} /></td>
          ${mode === 'adjust' && html`<td><select aria-label=${`Reason for ${l.sku}`} value=${l.reason} onChange=${(e) => update(l.sku, 'reason', e.currentTarget.value)}>
            ${REASONS.map((r) => html`<option key=${r} value=${r}>${enumLabel(r, 'ADJUSTMENT_REASON_')}</option>`)}
          </select></td>`}
          <td><button type="button" class="link" onClick=${() => setLines(lines.filter((x) => x.sku !== l.sku))}>Remove<span class="sr-only"> ${l.sku}</span></button></td>
        </tr>`)}</tbody>
      </table></div>`}
      <${Field} label="Note" id="count-note"><input id="count-note" value=${note} onInput=${(e) => setNote(e.currentTarget.value)} /><//>
      <button type="submit" disabled=${state.busy || lines.length === 0}>${MODES[mode].title}</button>
      <${ErrorNote} error=${state.error} />
      <${Notice}>${state.done}<//>
    </form>
  </section>`
}
