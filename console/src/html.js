// Templates are htm's tagged literals bound to Preact's h(): JSX-like markup with no compile step.
import { h } from 'preact'
import htm from 'htm'

export const html = htm.bind(h)
