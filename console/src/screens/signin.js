// Sign in with tenant, email and password (POST /v1/auth:login).
import { useState } from 'preact/hooks'
import { html } from '../html.js'
import { signIn, takeFarewell } from '../session.js'
import { ErrorNote, Field } from '../ui.js'

const LAST_TENANT = 'stockmesh.tenant'

export function SignInScreen() {
  const [tenant, setTenant] = useState(localStorage.getItem(LAST_TENANT) || '')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [state, setState] = useState({ busy: false, error: null, farewell: takeFarewell() })
  const submit = async (event) => {
    event.preventDefault()
    setState({ busy: true, error: null, farewell: '' })
    try {
      localStorage.setItem(LAST_TENANT, tenant.trim())
      await signIn(tenant.trim(), email.trim(), password)
    } catch (error) {
      setState({ busy: false, error, farewell: '' })
    }
  }
  return html`<main id="main" class="signin">
    <h1>stockmesh</h1>
    <form onSubmit=${submit} aria-labelledby="signin-title">
      <h2 id="signin-title">Sign in</h2>
      ${state.farewell && html`<p class="notice" role="status">${state.farewell}</p>`}
      <${Field} label="Tenant" id="tenant"><input id="tenant" name="tenant" required value=${tenant} onInput=${(e) => setTenant(e.currentTarget.value)} autocomplete="organization" /><//>
      <${Field} label="Email" id="email"><input id="email" name="email" type="email" required value=${email} onInput=${(e) => setEmail(e.currentTarget.value)} autocomplete="username" /><//>
      <${Field} label="Password" id="password"><input id="password" name="password" type="password" required value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} autocomplete="current-password" /><//>
      <button type="submit" disabled=${state.busy}>${state.busy ? 'Signing in…' : 'Sign in'}</button>
      <${ErrorNote} error=${state.error} />
    </form>
  </main>`
}
