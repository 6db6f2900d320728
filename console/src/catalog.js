// What the catalog says about SKUs: names for a page of levels, and the SKUs a search means
// (a barcode, an exact SKU, or words of a name).
import { api } from './api.js'
import { ApiError } from './http.js'

export const SEARCH_LIMIT = 50

/** sku -> "Product · Variant" for the SKUs given (unknown SKUs are left out). */
export async function names(skus) {
  if (skus.length === 0) return {}
  const reply = await api.get('/v1/products/-/variants:batchGet', { skus })
  const out = {}
  for (const v of reply.variants || []) out[v.sku] = label(v)
  return out
}

export const label = (variant) => [variant.productDisplayName, variant.displayName].filter(Boolean).join(' · ')

/** The variant a scanned or typed barcode names; null when the catalog has none. */
export async function byBarcode(barcode) {
  try {
    return (await api.get('/v1/products/-/variants:lookupBarcode', { barcode })).variant
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null
    throw error
  }
}

async function bySku(sku) {
  try {
    return (await api.get('/v1/products/-/variants:lookupSku', { sku })).variant
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 400)) return null
    throw error
  }
}

/** The SKUs a search means: `{skus, more}`, `more` when the words match over SEARCH_LIMIT variants.
 * Words match a product's name or brand (ListProducts) or a variant's SKU, name or barcode
 * (ListVariants); a whole barcode or SKU is looked up exactly. */
export async function searchSkus(text) {
  const query = text.trim()
  if (/^\d{8,14}$/.test(query)) {
    const variant = await byBarcode(query)
    if (variant) return { skus: [variant.sku], more: false }
  }
  const [exact, variants, products] = await Promise.all([
    bySku(query.toUpperCase()),
    api.get('/v1/products/-/variants', { query, pageSize: SEARCH_LIMIT }),
    api.get('/v1/products', { query, pageSize: SEARCH_LIMIT }),
  ])
  const skus = new Set(exact ? [exact.sku] : [])
  for (const v of variants.variants || []) skus.add(v.sku)
  for (const p of products.products || []) for (const v of p.variants || []) skus.add(v.sku)
  const more = skus.size > SEARCH_LIMIT || Boolean(variants.nextPageToken || products.nextPageToken)
  return { skus: [...skus].slice(0, SEARCH_LIMIT), more }
}
