// Screens live behind the URL's fragment (#/stock, #/orders/…), so the gateway serves one page
// and every screen can be bookmarked or reloaded.
import { useEffect, useState } from 'preact/hooks'

function parse() {
  const raw = location.hash.replace(/^#/, '') || '/stock'
  const [path, search = ''] = raw.split('?')
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent)
  return { path, parts, params: new URLSearchParams(search) }
}

export function useRoute() {
  const [route, setRoute] = useState(parse)
  useEffect(() => {
    const changed = () => setRoute(parse())
    addEventListener('hashchange', changed)
    return () => removeEventListener('hashchange', changed)
  }, [])
  return route
}

export function href(path, params) {
  const search = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString() : ''
  return `#${path}${search ? `?${search}` : ''}`
}

export function navigate(path, params) {
  location.hash = href(path, params)
}
