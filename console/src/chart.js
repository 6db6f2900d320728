// On hand over time, drawn by uPlot from the level's movements (each one's on_hand_after).
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { useEffect, useRef } from 'preact/hooks'
import { html } from './html.js'
import { int } from './format.js'

export function OnHandChart({ movements, title }) {
  const box = useRef(null)
  useEffect(() => {
    if (!box.current || movements.length === 0) return undefined
    const points = [...movements].sort((a, b) => int(a.sequence) - int(b.sequence))
    const xs = points.map((m) => Date.parse(m.createTime) / 1000)
    const ys = points.map((m) => int(m.onHandAfter))
    // A level keeps its last value until now: carry it to the right edge.
    xs.push(Math.max(Date.now() / 1000, xs[xs.length - 1] + 1))
    ys.push(ys[ys.length - 1])
    const width = Math.max(280, box.current.clientWidth)
    const plot = new uPlot(
      {
        width,
        height: 220,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
        series: [{}, { label: 'On hand', stroke: '#1f5fa8', width: 2, fill: 'rgba(31,95,168,0.08)', paths: uPlot.paths.stepped({ align: 1 }) }],
        axes: [{}, { label: 'On hand' }],
      },
      [xs, ys],
      box.current,
    )
    const resized = () => plot.setSize({ width: Math.max(280, box.current.clientWidth), height: 220 })
    addEventListener('resize', resized)
    return () => {
      removeEventListener('resize', resized)
      plot.destroy()
    }
  }, [movements])
  if (movements.length === 0) return html`<p class="muted">No movements to chart yet.</p>`
  const first = movements[movements.length - 1]
  const last = movements[0]
  return html`<figure class="chart">
    <div ref=${box} role="img" aria-label=${`${title}: on hand went from ${int(first.onHandAfter)} to ${int(last.onHandAfter)} over the ${movements.length} latest movements`}></div>
    <figcaption>On hand over the ${movements.length} latest movements</figcaption>
  </figure>`
}
