// Drawing the floor: the canvas, its areas, and a table placed by its layout entry
// (x, y = top-left corner; rotation in degrees about the table's centre).

const NS = "http://www.w3.org/2000/svg";

export function svgEl(name, attrs = {}, ...children) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, String(value));
  }
  node.append(...children);
  return node;
}

export function htmlEl(name, attrs = {}, ...children) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children);
  return node;
}

/** The canvas of a layout, or one that holds every placed table with a margin. */
export function canvasOf(layout) {
  if (layout?.canvas) return { width: layout.canvas.width, height: layout.canvas.height };
  let width = 800;
  let height = 600;
  for (const t of layout?.tables ?? []) {
    width = Math.max(width, t.x + t.width + 60);
    height = Math.max(height, t.y + t.height + 60);
  }
  for (const a of layout?.areas ?? []) {
    width = Math.max(width, a.x + a.width);
    height = Math.max(height, a.y + a.height);
  }
  return { width, height };
}

/** A fresh layout's placements: every table on a grid, area by area. */
export function gridPlacements(tables) {
  const sorted = [...tables].sort(
    (a, b) => (a.area ?? "").localeCompare(b.area ?? "") || a.name.localeCompare(b.name),
  );
  return sorted.map((table, i) => {
    const size = Math.max(60, 20 * Math.ceil(Math.sqrt(table.capacity) * 2));
    return {
      table_id: table.id,
      x: 40 + (i % 6) * 140,
      y: 40 + Math.floor(i / 6) * 140,
      width: size,
      height: size,
      rotation: 0,
      shape: table.capacity <= 2 ? "round" : "rectangle",
    };
  });
}

export function centreOf(p) {
  return { x: p.x + p.width / 2, y: p.y + p.height / 2 };
}

export function drawCanvas(svg, layout, defsChildren = []) {
  const { width, height } = canvasOf(layout);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.dataset.width = String(width);
  svg.dataset.height = String(height);
  const background = layout?.canvas?.background || "#ffffff";
  const layer = svgEl("g", { class: "areas" });
  layer.append(svgEl("rect", { x: 0, y: 0, width, height, fill: background, class: "canvas" }));
  for (const area of layout?.areas ?? []) {
    layer.append(
      svgEl("rect", {
        x: area.x,
        y: area.y,
        width: area.width,
        height: area.height,
        fill: area.color || "#f2f2f2",
        class: "area",
      }),
      svgEl("text", { x: area.x + 12, y: area.y + 26, class: "area-name" }, area.name),
    );
  }
  svg.replaceChildren(svgEl("defs", {}, ...defsChildren), layer);
  return layer;
}

/** The shape of a table centred on (0, 0), filled by `fill`. */
export function shapeOf(p, attrs = {}) {
  if (p.shape === "round" || p.shape === "oval") {
    return svgEl("ellipse", { cx: 0, cy: 0, rx: p.width / 2, ry: p.height / 2, ...attrs });
  }
  return svgEl("rect", {
    x: -p.width / 2,
    y: -p.height / 2,
    width: p.width,
    height: p.height,
    rx: Math.min(8, p.width / 6),
    ...attrs,
  });
}

/** Move a table's group to where its placement says. */
export function placeGroup(group, p) {
  const c = centreOf(p);
  group.setAttribute("transform", `translate(${c.x} ${c.y}) rotate(${p.rotation || 0})`);
  group.dataset.x = String(p.x);
  group.dataset.y = String(p.y);
  group.dataset.width = String(p.width);
  group.dataset.height = String(p.height);
  group.dataset.rotation = String(p.rotation || 0);
}

/** Text lines under a table's name, kept upright whatever the table's rotation. */
export function labels(p, lines) {
  const text = svgEl("text", {
    class: "table-label",
    "text-anchor": "middle",
    transform: `rotate(${-(p.rotation || 0)})`,
  });
  const gap = 16;
  lines.forEach((line, i) => {
    text.append(
      svgEl(
        "tspan",
        { x: 0, y: (i - (lines.length - 1) / 2) * gap + 5, class: i === 0 ? "name" : "sub" },
        line,
      ),
    );
  });
  return text;
}

/** Where a pointer event falls in the SVG's own units. */
export function svgPoint(svg, event) {
  const point = svg.createSVGPoint();
  point.x = event.clientX;
  point.y = event.clientY;
  return point.matrixTransform(svg.getScreenCTM().inverse());
}

export function areaAt(layout, point) {
  return (layout.areas ?? []).find(
    (a) => point.x >= a.x && point.x <= a.x + a.width && point.y >= a.y && point.y <= a.y + a.height,
  );
}
