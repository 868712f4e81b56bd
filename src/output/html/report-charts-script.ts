// The browser side of the report's charts (issue 17): plain ES2019, no imports, kept as text so the
// HTML report inlines it and serve's live page can send it as is. It needs uPlot loaded (the global
// `uPlot`) and defines `window.lantopCharts.render(container, doc)`, which draws the stacked
// download/upload series, the share chart, one small chart per device and one per custom counter
// (issue 18, when the document has `counters`) into `container`. Called
// again (the live page, with a new document) it destroys the charts it drew there first. Every text
// from the document goes in through textContent or uPlot's labels (also textContent), never as HTML.
//
// A string and not a serialised TS function: the project compiles without the DOM library, and the
// text is exactly what the browser runs. Keep it free of backticks and dollar-brace: it lives in a
// template literal (String.raw, so its backslashes stay as written).

export const REPORT_CHARTS_SCRIPT: string = String.raw`(function () {
  'use strict';
  var PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#86bcb6'];
  var OTHER_COLOR = '#a0a0a0';
  var UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  var SHARE_BARS = 12;
  var states = new WeakMap();

  function formatBytes(v) {
    if (v === null || v === undefined || !isFinite(v)) return '\u2013';
    var u = 0;
    while (Math.abs(v) >= 1000 && u < UNITS.length - 1) { v /= 1000; u++; }
    return (u === 0 ? String(Math.round(v)) : v.toFixed(Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2)) + ' ' + UNITS[u];
  }
  function short(text, max) {
    return text.length > max ? text.slice(0, max - 1) + '\u2026' : text;
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function widthOf(node, fallback) {
    var w = node.clientWidth;
    return w > 0 ? Math.floor(w) : fallback;
  }
  function destroy(container) {
    var state = states.get(container);
    if (state) {
      state.plots.forEach(function (p) { p.destroy(); });
      window.removeEventListener('resize', state.onResize);
      if (state.frame) cancelAnimationFrame(state.frame);
      states.delete(container);
    }
    while (container.firstChild) container.removeChild(container.firstChild);
  }
  function bucketWord(doc) {
    return doc.granularity === 'minute' ? 'minute' : doc.granularity === 'hour' ? 'hour' : 'day';
  }
  /** The devices with their own series, busiest first, then the rest together; each with its colour. */
  function layersOf(doc) {
    var layers = [];
    doc.devices.forEach(function (d) {
      if (d.series) layers.push({ label: d.name, color: PALETTE[layers.length % PALETTE.length], series: d.series });
    });
    if (doc.otherSeries) layers.push({ label: 'other devices', color: OTHER_COLOR, series: doc.otherSeries });
    return layers;
  }
  function xScale(doc) {
    var half = doc.bucketMs / 2000;
    return { time: true, range: function (u, min, max) { return min === max || min === null ? [(min || 0) - half, (max || 0) + half] : [min, max]; } };
  }
  function yRange(fixedMax) {
    return function (u, min, max) {
      var top = fixedMax !== undefined ? fixedMax : max;
      return [0, top !== null && top > 0 ? top * 1.05 : 1];
    };
  }
  function bytesAxis() {
    return { size: 72, values: function (u, splits) { return splits.map(formatBytes); } };
  }

  /** Stacked areas: each layer drawn as the running sum, the top one first so the lower ones paint over it. */
  function stackedChart(parent, doc, layers, key, title, width, plots) {
    var xs = doc.bucketStartsMs.map(function (ms) { return ms / 1000; });
    var sums = [];
    var running = xs.map(function () { return 0; });
    layers.forEach(function (layer) {
      running = running.map(function (r, k) {
        var v = layer.series[key][k];
        return r === null || v === null || v === undefined ? null : r + v;
      });
      sums.push(running);
    });
    var order = sums.map(function (s, i) { return i; }).reverse();
    var series = [{}].concat(order.map(function (i) {
      var layer = layers[i];
      return {
        label: layer.label,
        stroke: layer.color,
        fill: layer.color,
        width: 1,
        points: { show: false },
        value: function (u, v, si, idx) { return idx === null || idx === undefined ? '\u2013' : formatBytes(layer.series[key][idx]); },
      };
    }));
    var box = el('div', 'lantop-chart');
    box.setAttribute('data-chart', 'stacked-' + key);
    parent.appendChild(box);
    var opts = {
      title: title + ' per ' + bucketWord(doc),
      width: width,
      height: 280,
      series: series,
      scales: { x: xScale(doc), y: { range: yRange() } },
      axes: [{}, bytesAxis()],
    };
    var plot = new uPlot(opts, [xs].concat(order.map(function (i) { return sums[i]; })), box);
    plots.push(plot);
    return plot;
  }

  /** Each device's part of the period's traffic (down + up), the busiest few and the rest as one bar. */
  function shareChart(parent, doc, width, plots) {
    var top = doc.devices.slice(0, SHARE_BARS);
    var names = top.map(function (d) { return d.name; });
    var values = top.map(function (d) { return d.share * 100; });
    if (doc.devices.length > SHARE_BARS) {
      var rest = doc.devices.slice(SHARE_BARS).reduce(function (a, d) { return a + d.share; }, 0);
      names.push('other devices');
      values.push(rest * 100);
    }
    var xs = names.map(function (n, i) { return i; });
    var box = el('div', 'lantop-chart');
    box.setAttribute('data-chart', 'share');
    parent.appendChild(box);
    var opts = {
      title: 'Share of the period\u2019s traffic',
      width: width,
      height: 260,
      scales: { x: { time: false, range: [-0.5, Math.max(0, xs.length - 0.5)] }, y: { range: [0, Math.min(100, Math.max(1, Math.max.apply(null, values.concat([0])) * 1.2))] } },
      series: [
        { label: 'device', value: function (u, v) { return v === null || v === undefined ? '\u2013' : names[v]; } },
        {
          label: 'share',
          stroke: PALETTE[0],
          fill: PALETTE[0],
          points: { show: false },
          paths: uPlot.paths.bars({ size: [0.7, 80] }),
          value: function (u, v) { return v === null || v === undefined ? '\u2013' : v.toFixed(1) + ' %'; },
        },
      ],
      axes: [
        { splits: function () { return xs; }, values: function (u, splits) { return splits.map(function (i) { return names[i] === undefined ? '' : short(names[i], 14); }); }, rotate: -30, size: 70 },
        { values: function (u, splits) { return splits.map(function (v) { return v + ' %'; }); } },
      ],
    };
    var plot = new uPlot(opts, [xs, values], box);
    plots.push(plot);
    return plot;
  }

  /** One small chart per layer, all on the same scale so they compare at a glance. */
  function smallMultiples(parent, doc, layers, plots) {
    var xs = doc.bucketStartsMs.map(function (ms) { return ms / 1000; });
    var max = 0;
    layers.forEach(function (layer) {
      layer.series.down.concat(layer.series.up).forEach(function (v) { if (v !== null && v > max) max = v; });
    });
    var grid = el('div', 'lantop-multiples');
    parent.appendChild(grid);
    layers.forEach(function (layer) {
      var box = el('div', 'lantop-multiple');
      box.setAttribute('data-chart', 'device');
      grid.appendChild(box);
      var opts = {
        title: short(layer.label, 40),
        width: 320,
        height: 160,
        legend: { show: false },
        cursor: { show: true, points: { show: false } },
        scales: { x: xScale(doc), y: { range: yRange(max) } },
        series: [
          {},
          { label: 'download', stroke: layer.color, fill: layer.color + '55', width: 1.5, points: { show: false } },
          { label: 'upload', stroke: '#333333', width: 1, dash: [4, 3], points: { show: false } },
        ],
        axes: [{ size: 28, font: '10px sans-serif' }, { size: 60, font: '10px sans-serif', values: function (u, splits) { return splits.map(formatBytes); } }],
      };
      plots.push(new uPlot(opts, [xs, layer.series.down, layer.series.up], box));
    });
  }

  /** One small chart per custom counter (issue 18): its bytes per bucket, each on its own scale (counters measure unlike things). */
  function counterCharts(parent, doc, plots) {
    var xs = doc.bucketStartsMs.map(function (ms) { return ms / 1000; });
    var grid = el('div', 'lantop-multiples');
    parent.appendChild(grid);
    doc.counters.forEach(function (c, i) {
      var color = PALETTE[i % PALETTE.length];
      var box = el('div', 'lantop-multiple');
      box.setAttribute('data-chart', 'counter');
      grid.appendChild(box);
      var opts = {
        title: short(c.name + ' \u2013 ' + formatBytes(c.bytes), 48),
        width: 320,
        height: 160,
        legend: { show: false },
        cursor: { show: true, points: { show: false } },
        scales: { x: xScale(doc), y: { range: yRange() } },
        series: [{}, { label: 'bytes', stroke: color, fill: color + '55', width: 1.5, points: { show: false } }],
        axes: [{ size: 28, font: '10px sans-serif' }, { size: 60, font: '10px sans-serif', values: function (u, splits) { return splits.map(formatBytes); } }],
      };
      plots.push(new uPlot(opts, [xs, c.series], box));
    });
  }

  function render(container, doc) {
    destroy(container);
    var plots = [];
    var main = [];
    var root = el('div', 'lantop-charts-root');
    container.appendChild(root);
    if (!doc || !doc.bucketStartsMs || doc.bucketStartsMs.length === 0) {
      root.appendChild(el('p', 'lantop-empty', 'Nothing to draw: this period has not begun.'));
      states.set(container, { plots: plots, onResize: function () {}, frame: 0 });
      return;
    }
    if (doc.devices.length === 0) root.appendChild(el('p', 'lantop-empty', 'No traffic recorded in this period.'));
    var width = widthOf(container, 900);
    var layers = layersOf(doc);
    root.appendChild(el('h3', null, 'Download and upload, stacked by device'));
    main.push(stackedChart(root, doc, layers, 'down', 'Download', width, plots));
    main.push(stackedChart(root, doc, layers, 'up', 'Upload', width, plots));
    if (doc.devices.length > 0) {
      root.appendChild(el('h3', null, 'Share by device'));
      main.push(shareChart(root, doc, width, plots));
    }
    if (layers.length > 0) {
      root.appendChild(el('h3', null, 'Each device (same scale; solid: download, dashed: upload)'));
      smallMultiples(root, doc, layers, plots);
    }
    if (doc.counters && doc.counters.length > 0) {
      root.appendChild(el('h3', null, 'Custom counters (bytes per ' + bucketWord(doc) + ', each on its own scale)'));
      counterCharts(root, doc, plots);
    }
    var state = { plots: plots, onResize: null, frame: 0 };
    state.onResize = function () {
      if (state.frame) return;
      state.frame = requestAnimationFrame(function () {
        state.frame = 0;
        var w = widthOf(container, width);
        main.forEach(function (p) { p.setSize({ width: w, height: p.height }); });
      });
    };
    window.addEventListener('resize', state.onResize);
    states.set(container, state);
  }

  window.lantopCharts = { render: render, destroy: destroy, formatBytes: formatBytes };
})();
`;
