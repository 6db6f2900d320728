// The console's frame: sign-in when nobody is signed in; otherwise the navigation (only the
// screens the user's roles can use) and the screen the URL names.
import { useEffect, useState } from 'preact/hooks'
import { html } from './html.js'
import { href, useRoute } from './router.js'
import { can, loadPermissions, permissionsLoaded, roles, signOut, useSession } from './session.js'
import { ErrorNote } from './ui.js'
import { CountsScreen } from './screens/counts.js'
import { LevelScreen } from './screens/level.js'
import { LowStockScreen } from './screens/low.js'
import { OrderScreen, OrdersScreen } from './screens/orders.js'
import { PurchaseOrderScreen, PurchaseOrdersScreen } from './screens/receiving.js'
import { SignInScreen } from './screens/signin.js'
import { StockScreen } from './screens/stock.js'

const SCREENS = [
  { path: 'stock', title: 'Stock', operation: 'StockService_ListStockLevels', screen: StockScreen },
  { path: 'levels', screen: LevelScreen, operation: 'StockService_GetStockLevel' },
  { path: 'low-stock', title: 'Low stock', operation: 'StockService_ListLowStock', screen: LowStockScreen },
  { path: 'purchase-orders', title: 'Receiving', operation: 'PurchaseOrderService_ListPurchaseOrders', screen: PurchaseOrdersScreen, detail: PurchaseOrderScreen },
  { path: 'counts', title: 'Counts', operation: ['StockService_RecordCycleCount', 'StockService_AdjustStock'], screen: CountsScreen },
  { path: 'orders', title: 'Orders', operation: 'OrderService_ListOrders', screen: OrdersScreen, detail: OrderScreen },
]

// The screens live in the URL's fragment, so the skip link moves focus instead of following "#main".
const skip = (event) => {
  event.preventDefault()
  document.getElementById('main')?.focus()
}

const allowed = (s) => [s.operation].flat().some(can)

export function App() {
  const session = useSession()
  const route = useRoute()
  const [ready, setReady] = useState({ done: permissionsLoaded(), error: null })
  useEffect(() => {
    // After a reload the tokens are still in the tab; what the roles allow is read again.
    if (session && !ready.done) loadPermissions().then(() => setReady({ done: true, error: null }), (error) => setReady({ done: false, error }))
  }, [session])
  if (!session) return html`<${SignInScreen} />`
  if (!ready.done) return html`<main id="main">${ready.error ? html`<${ErrorNote} error=${ready.error} />` : html`<p role="status">Loading…</p>`}</main>`
  const found = SCREENS.find((s) => s.path === route.parts[0]) || SCREENS[0]
  const Screen = route.parts.length > 1 && found.detail ? found.detail : found.screen
  const user = session.user
  return html`<div class="frame">
    <a class="skip" href="#main" onClick=${skip}>Skip to content</a>
    <header class="top">
      <span class="brand">stockmesh</span>
      <nav aria-label="Screens">
        <ul>${SCREENS.filter((s) => s.title && allowed(s)).map((s) => html`<li key=${s.path}><a href=${href(`/${s.path}`)} aria-current=${s === found ? 'page' : undefined}>${s.title}</a></li>`)}</ul>
      </nav>
      <div class="who">
        <span>${user.email} · ${roles().join(', ')} · ${session.tenant}</span>
        <button type="button" class="link" onClick=${signOut}>Sign out</button>
      </div>
    </header>
    <main id="main" tabindex="-1">
      ${allowed(found) ? html`<${Screen} key=${route.path} route=${route} />` : html`<p>Your role cannot use this screen.</p>`}
    </main>
  </div>`
}
