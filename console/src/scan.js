// A keyboard-wedge scanner types the code and Enter: the field resolves it (a barcode, or a SKU
// typed by hand) to a variant, hands it on, and is ready for the next scan.
import { useRef, useState } from 'preact/hooks'
import { api } from './api.js'
import { byBarcode } from './catalog.js'
import { ApiError } from './http.js'
import { html } from './html.js'
import { ErrorNote, Field } from './ui.js'

async function resolve(code) {
  if (/^\d{8,14}$/.test(code)) {
    const variant = await byBarcode(code)
    if (variant) return variant
  }
  try {
    return (await api.get('/v1/products/-/variants:lookupSku', { sku: code })).variant
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 400)) {
      throw new ApiError(404, { code: 5, message: `No variant in the catalog has the barcode or SKU “${code}”.` })
    }
    throw error
  }
}

export function ScanField({ id, onVariant, label = 'Scan a barcode or type a SKU, then Enter' }) {
  const [code, setCode] = useState('')
  const [state, setState] = useState({ busy: false, error: null, last: '' })
  const input = useRef(null)
  const submit = async (event) => {
    event.preventDefault()
    const typed = code.trim()
    if (!typed) return
    setState({ busy: true, error: null, last: '' })
    try {
      const variant = await resolve(typed)
      const note = await onVariant(variant)
      setCode('')
      setState({ busy: false, error: null, last: note || `Added ${variant.sku}.` })
    } catch (error) {
      setState({ busy: false, error, last: '' })
    }
    input.current?.focus()
  }
  return html`<form class="scan" onSubmit=${submit}>
    <${Field} label=${label} id=${id}>
      <input id=${id} ref=${input} value=${code} onInput=${(e) => setCode(e.currentTarget.value)} autocomplete="off" inputmode="text" enterkeyhint="done" aria-describedby=${`${id}-result`} />
    <//>
    <button type="submit" disabled=${state.busy}>Add</button>
    <div id=${`${id}-result`}>
      <${ErrorNote} error=${state.error} />
      ${state.last && html`<p class="notice" role="status">${state.last}</p>`}
    </div>
  </form>`
}
