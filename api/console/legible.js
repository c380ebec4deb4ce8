// Labels on a floor drawing that stay readable at any size. The SVG scales its canvas to
// the width it is given, and its text with it: a 15-unit table name is 5 px tall on a
// phone. Here the names and lines under them are sized in canvas units so that, as
// rendered, none is under 12 px (and never smaller than the drawing's own size), and a
// label that would then spill far past its table is shortened: a line under the name
// keeps its first word (the status's symbol "◐", the seat count), or goes.

const MIN_PX = 12.5; // a little over 12, so rounding never takes a label under it
const LINE = 1.15; // line height, in ems
const SPILL = 1.15; // how far past its table a label may reach, as a share of the table

/** The scale the SVG is drawn at: screen pixels per canvas unit. */
function scaleOf(svg) {
  const matrix = svg.getScreenCTM();
  return matrix ? Math.hypot(matrix.a, matrix.b) : 1;
}

/** The size a class of text is drawn at (the stylesheet's), in canvas units. */
function baseSize(node, cache) {
  const key = node.getAttribute("class") || node.tagName;
  if (!cache.has(key)) {
    node.style.removeProperty("font-size");
    cache.set(key, parseFloat(getComputedStyle(node).fontSize) || 14);
  }
  return cache.get(key);
}

function lay(text, lines, sizes) {
  // The block of lines is centred on the table's centre, whatever their sizes.
  const heights = sizes.map((size) => size * LINE);
  let y = -heights.reduce((sum, h) => sum + h, 0) / 2;
  lines.forEach((line, i) => {
    line.setAttribute("x", "0");
    line.setAttribute("y", String(y + heights[i] * 0.78));
    y += heights[i];
  });
}

function fitTable(group, scale, cache) {
  const text = group.querySelector("text.table-label");
  const shape = group.querySelector(".table-shape");
  if (!text || !shape) return;
  const lines = [...text.querySelectorAll("tspan")];
  for (const line of lines) {
    line.dataset.full ??= line.textContent;
    line.textContent = line.dataset.full;
    line.style.removeProperty("display");
  }
  const sizes = lines.map((line) => Math.max(baseSize(line, cache), MIN_PX / scale));
  lines.forEach((line, i) => line.style.setProperty("font-size", `${sizes[i]}px`));
  lay(text, lines, sizes);
  const room = shape.getBBox();
  const fits = () => {
    const box = text.getBBox();
    return box.width <= room.width * SPILL && box.height <= room.height * SPILL;
  };
  if (fits()) return;
  for (const line of lines.slice(1)) {
    line.textContent = line.dataset.short ?? line.dataset.full.split(/\s+/)[0];
  }
  if (fits()) return;
  for (const line of lines.slice(1)) line.style.setProperty("display", "none");
  lay(text, lines.slice(0, 1), sizes.slice(0, 1));
}

function fitAreas(svg, scale, cache) {
  for (const name of svg.querySelectorAll("text.area-name")) {
    name.style.setProperty("font-size", `${Math.max(baseSize(name, cache), MIN_PX / scale)}px`);
  }
}

/** Keep `svg`'s labels legible as it is redrawn and resized. */
export function keepLegible(svg) {
  const cache = new Map();
  let pending = false;

  // A redraw replaces a table's children: fit again before the next paint.
  const observer = new MutationObserver(() => {
    if (!pending) {
      pending = true;
      queueMicrotask(fit);
    }
  });

  function fit() {
    pending = false;
    if (!svg.isConnected || svg.closest("[hidden]")) return;
    const scale = scaleOf(svg);
    if (!(scale > 0)) return;
    fitAreas(svg, scale, cache);
    for (const group of svg.querySelectorAll("g.table")) fitTable(group, scale, cache);
    observer.takeRecords(); // our own changes to the labels are not a redraw
  }

  observer.observe(svg, { childList: true, subtree: true });
  new ResizeObserver(() => fit()).observe(svg);
  return { fit };
}
