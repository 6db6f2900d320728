// How values from the API's JSON read on screen: int64s arrive as strings, enums by full name.

export const int = (value) => Number.parseInt(value ?? '0', 10) || 0

const whole = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 })
export const count = (value) => whole.format(int(value))

const ACRONYMS = { SALES_CHANNEL_POS: 'POS' }

/** `ORDER_STATUS_PARTIALLY_RETURNED` -> `Partially returned`. */
export function enumLabel(value, prefix) {
  if (!value) return ''
  if (ACRONYMS[value]) return ACRONYMS[value]
  const text = value.replace(prefix, '').toLowerCase().replace(/_/g, ' ')
  return text.charAt(0).toUpperCase() + text.slice(1)
}

export function money(m) {
  if (!m || !m.currencyCode) return ''
  const amount = int(m.units) + (m.nanos || 0) / 1e9
  return new Intl.NumberFormat(undefined, { style: 'currency', currency: m.currencyCode }).format(amount)
}

export function when(timestamp) {
  if (!timestamp) return ''
  return new Date(timestamp).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

/** The last segment of a resource name: `warehouses/abc` -> `abc`. */
export const id = (name) => (name || '').split('/').pop()

/** `2419200s` -> `28 days`. */
export function days(duration) {
  const seconds = Number.parseFloat(duration || '0')
  return `${Math.round(seconds / 86400)} days`
}
