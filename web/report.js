/* report.js — draws poolprobe-report's HTML page from the JSON in #pp-data.
 *
 * Every number and word comes from poolprobe-report (verdicts, actions, checklist rows,
 * histogram spans, the gate's rows); this script only lays them out and draws them with the
 * embedded libraries: Chart.js for histograms and time series, d3-flame-graph for the flame
 * graph. When it is done it writes what it drew into #pp-status (charts, drawn canvases, flame
 * graph rectangles, script errors), which `make test` reads from headless Chromium.
 */
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('pp-data').textContent);
  var root = document.getElementById('report');
  var charts = [];

  // --- formatting, as the text report does it ------------------------------------------------
  function scaled(v, step, units) {
    var u = 0;
    while (v >= step && u + 1 < units.length) { v /= step; u++; }
    if (u === 0 && v === Math.floor(v)) return String(v);
    return (v < 9.95 ? v.toFixed(1) : v.toFixed(0)) + units[u];
  }
  function bytes(b) { return b < 1024 ? String(b) : scaled(b, 1024, ['', 'K', 'M', 'G', 'T', 'P']); }
  function count(n) { return n < 1000 && n >= 10 ? n.toFixed(0) : scaled(n, 1000, ['', 'K', 'M', 'G', 'T']); }
  function ns(v) {
    if (v < 1000) return v + 'ns';
    var u = [[1e3, 'us'], [1e6, 'ms'], [1e9, 's'], [60e9, 'm'], [3600e9, 'h']], k = 0;
    while (k + 1 < u.length && v >= u[k + 1][0]) k++;
    var x = v / u[k][0];
    return (x < 9.95 ? x.toFixed(1) : x.toFixed(0)) + u[k][1];
  }
  function pct(x) { return (100 * x).toFixed(1) + '%'; }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return e;
  }
  function stat(value, label) { return el('div', { cls: 'stat' }, [el('b', { text: value }), el('span', { text: label })]); }

  // --- charts ----------------------------------------------------------------------------------
  var ink = '#1d2330', muted = '#5b6475';
  Chart.defaults.animation = false;
  Chart.defaults.font.size = 11;
  Chart.defaults.color = muted;

  function chartBox(title, tall) {
    var canvas = el('canvas');
    return { node: el('div', {}, [el('div', { cls: 'chart-title', text: title }),
                                  el('div', { cls: 'chart-box' + (tall ? ' tall' : '') }, [canvas])]),
             canvas: canvas };
  }
  function drawLater(canvas, config) { charts.push({ canvas: canvas, config: config }); }

  // A histogram of [lo, hi, count] spans as bars.
  function histogram(title, spans, fmt, color) {
    var box = chartBox(title);
    if (!spans || spans.length === 0) {
      box.node.appendChild(el('div', { cls: 'muted', text: '(none: no block was freed)' }));
      return box.node;
    }
    var labels = spans.map(function (s) { return s[0] === s[1] ? fmt(s[0]) : fmt(s[0]) + '..' + fmt(s[1]); });
    drawLater(box.canvas, {
      type: 'bar',
      data: { labels: labels, datasets: [{ data: spans.map(function (s) { return s[2]; }), backgroundColor: color }] },
      options: { responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } },
                 scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return count(v); } } } } }
    });
    return box.node;
  }

  // --- header ----------------------------------------------------------------------------------
  function header() {
    var t = data.totals;
    root.appendChild(el('h1', { text: 'Allocations of ' + data.title }));
    data.processes.forEach(function (p) {
      root.appendChild(el('div', { cls: 'muted mono', text: 'pid ' + p.pid + '  ' + ns(p.duration_ns) + '  ' + p.argv.join(' ') }));
    });
    var s = el('div', { cls: 'summary' }, [
      stat(count(t.allocs), 'allocations'), stat(count(t.frees), 'frees'),
      stat(bytes(t.bytes) + 'B', 'requested'), stat(bytes(t.peak_live_bytes) + 'B', 'peak live'),
      stat(String(data.site_count), 'sites'), stat(String(data.recommended.length), 'recommendations')]);
    if (t.ops) s.appendChild(stat((t.allocs / t.ops).toFixed(2), 'allocations per operation'));
    root.appendChild(s);
    if (t.sample_every > 1) root.appendChild(el('div', { cls: 'note', text: 'Sampled 1 in ' + t.sample_every + ' allocations: per-site figures are estimates.' }));
    if (t.snapshot) root.appendChild(el('div', { cls: 'note', text: 'A snapshot taken while the process ran.' }));
    if (t.tracking_lost) root.appendChild(el('div', { cls: 'note', text: 'The shim ran out of memory: counts stop early.' }));
  }

  // --- the regression gate -------------------------------------------------------------------------
  function gate() {
    var g = data.gate;
    if (!g) return;
    root.appendChild(el('h2', { text: 'Regression gate: ' + g.baseline.source + ' → ' + g.current.source }));
    root.appendChild(el('p', { cls: g.passed ? 'gate-pass' : 'gate-fail',
      text: g.passed ? 'Passed: no regression.' : 'Failed: ' + g.regressions.length + ' regression' + (g.regressions.length === 1 ? '' : 's') + '.' }));
    var rows = [];
    ['allocs', 'bytes', 'peak_live_bytes'].forEach(function (k) { rows.push(Object.assign({ label: k.replace(/_/g, ' ') }, g.totals[k])); });
    g.regressions.concat(g.suppressed, g.improvements).forEach(function (r) { if (r.site) rows.push(Object.assign({ label: r.site }, r)); });
    var fmt = function (r, v) { return /bytes/.test(r.check) ? bytes(v) + 'B' : count(v); };
    var table = el('table', {}, [el('tr', {}, [el('th', { text: 'what' }), el('th', { text: 'status' }),
      el('th', { cls: 'num', text: 'baseline' }), el('th', { cls: 'num', text: 'current' }),
      el('th', { cls: 'num', text: 'change' }), el('th', { text: 'baseline / current' })])]);
    rows.forEach(function (r) {
      var up = (r.current || 0) > (r.baseline || 0);
      var most = Math.max(1, r.baseline || 0, r.current || 0); // each row on its own scale: units differ
      var bars = el('td', {}, [
        el('div', {}, [el('span', { cls: 'bar base', style: 'width:' + (200 * (r.baseline || 0) / most) + 'px' })]),
        el('div', {}, [el('span', { cls: 'bar ' + (r.status === 'regression' ? 'up' : up ? '' : 'down'), style: 'width:' + (200 * (r.current || 0) / most) + 'px' })])]);
      table.appendChild(el('tr', {}, [el('td', { cls: 'mono', text: r.label }), el('td', { text: r.status }),
        el('td', { cls: 'num', text: r.baseline === undefined ? '-' : fmt(r, r.baseline) }),
        el('td', { cls: 'num', text: r.current === undefined ? '-' : fmt(r, r.current) }),
        el('td', { cls: 'num', text: r.change === null || r.change === undefined ? 'new' : (r.change >= 0 ? '+' : '') + pct(r.change) }),
        bars]));
    });
    root.appendChild(table);
    (g.notes || []).forEach(function (n) { root.appendChild(el('div', { cls: 'note', text: n })); });
  }

  // --- cards -------------------------------------------------------------------------------------
  function legend() {
    return el('div', { cls: 'legend', text: 'ok/NO: a condition for pooling holds/fails (the first NO decides); yes/no: the condition for a simpler fix (pre-size, a stack buffer) holds or not.' });
  }

  // The measured saving of a site, when --try gave a poolprobe try result.
  function measured(site) {
    var m = site.measured;
    if (!m) return el('div', { cls: 'measured none', text: 'Measured: not tried (poolprobe try measures it: poolprobe-report --try RESULT).' });
    return el('div', { cls: 'measured', text: 'Measured (try ' + m.verdict + (m.alone ? '' : ', with the other sites') + '): cpu x' +
      m.cpu.toFixed(3) + ' (' + m.cpu_min.toFixed(3) + '-' + m.cpu_max.toFixed(3) + '), wall x' + m.wall.toFixed(3) + ', ' +
      (m.confirmed ? 'confirmed' : 'not confirmed') + '; ' + count(m.hits) + ' pool hits, ' + count(m.misses) + ' misses' });
  }

  function card(site, rank) {
    var where = site.file ? site.file + ':' + site.line : '';
    var head = el('header', {}, [rank ? el('h3', { text: rank + '.' }) : null,
      el('span', { cls: 'badge v-' + site.verdict, text: site.verdict }),
      el('h3', { cls: 'mono', text: site.key }), el('span', { cls: 'muted mono', text: where })]);
    var c = el('section', { cls: 'card', id: 'site-' + site.key }, [head]);
    if (site.callers.length) c.appendChild(el('div', { cls: 'muted mono', text: 'called from ' + site.callers.join(' < ') }));
    if (site.action) c.appendChild(el('div', { cls: 'action', text: site.action }));
    if (site.reason) c.appendChild(el('div', { cls: 'action', text: 'Not worth pooling: ' + site.reason }));
    var saving = el('div', { cls: 'saving' }, [
      el('div', { text: count(site.allocs) + ' allocations, ' + bytes(site.bytes) + 'B' }),
      el('div', { text: 'peak ' + count(site.peak_live) + ' live' })]);
    if (rank && site.verdict === 'presize')
      saving.appendChild(el('div', { text: 'Predicted: saves ' + count(site.allocs_saved) + ' reallocs of blocks from ' + count(site.allocs) + ' allocations' }));
    else if (rank)
      saving.appendChild(el('div', { text: 'Predicted: saves ' + count(site.allocs_saved) + ' of ' + count(site.allocs) +
        ' allocations (' + pct(data.totals.allocs ? site.allocs_saved / data.totals.allocs : 0) + ' of all)' }));
    c.appendChild(saving);
    if (rank) c.appendChild(measured(site));
    var checks = el('table', {}, [el('tr', {}, [el('th', { text: '' }), el('th', { text: 'check' }),
      el('th', { text: 'measured' }), el('th', { text: 'threshold' })])]);
    site.checks.forEach(function (k) {
      checks.appendChild(el('tr', { title: k.why }, [el('td', { cls: 'mark mark-' + k.mark, text: k.mark }),
        el('td', { text: k.name }), el('td', { text: k.value }), el('td', { text: k.threshold })]));
    });
    var left = el('div', {}, [checks, legend()]);
    var right = el('div', { cls: 'charts' }, [histogram('size (bytes)', site.size, bytes, '#2b6cb0'),
                                             histogram('lifetime', site.lifetime, ns, '#1f7a4d')]);
    c.appendChild(el('div', { cls: 'card-body' }, [left, right]));
    return c;
  }

  function cards() {
    root.appendChild(el('h2', { text: 'Recommendations, most allocations saved first' }));
    if (data.recommended.length === 0) root.appendChild(el('p', { text: 'No site is worth pooling or a simpler fix.' }));
    data.recommended.forEach(function (i, k) { root.appendChild(card(data.sites[i], k + 1)); });
    if (data.busiest.length) {
      root.appendChild(el('h2', { text: 'Busiest sites not worth pooling, and why' }));
      data.busiest.forEach(function (i) { root.appendChild(card(data.sites[i], 0)); });
    }
  }

  // --- flame graph -------------------------------------------------------------------------------
  function flameTree(by) {
    var top = { name: 'all', value: 0, children: [] };
    data.stacks.forEach(function (s) {
      var v = s[by];
      if (!v) return;
      top.value += v;
      var node = top;
      s.frames.forEach(function (f) {
        var next = null;
        for (var i = 0; i < node.children.length; i++) if (node.children[i].name === f) { next = node.children[i]; break; }
        if (!next) { next = { name: f, value: 0, children: [] }; node.children.push(next); }
        next.value += v;
        node = next;
      });
    });
    return top;
  }

  var flame = null;
  function drawFlame(by) {
    var box = document.getElementById('flame');
    box.textContent = '';
    var unit = by === 'bytes' ? function (v) { return bytes(v) + 'B'; } : function (v) { return count(v) + ' allocations'; };
    flame = flamegraph().width(Math.max(600, box.clientWidth || 1100)).cellHeight(18)
      .transitionDuration(0).minFrameSize(2).selfValue(false).sort(true).title('')
      .label(function (d) { return d.data.name + ': ' + unit(d.value) + ' (' + pct(d.value / (flameTotal[by] || 1)) + ')'; });
    d3.select(box).datum(flameTree(by)).call(flame);
  }
  var flameTotal = {};

  function flameSection() {
    if (!data.stacks || data.stacks.length === 0) return;
    flameTotal.allocs = data.stacks.reduce(function (a, s) { return a + s.allocs; }, 0);
    flameTotal.bytes = data.stacks.reduce(function (a, s) { return a + s.bytes; }, 0);
    root.appendChild(el('h2', { text: 'Where allocations come from' }));
    var byCount = el('button', { cls: 'on', type: 'button', text: 'by count' });
    var byBytes = el('button', { type: 'button', text: 'by bytes' });
    var search = el('input', { type: 'search', placeholder: 'search functions', 'aria-label': 'search functions' });
    var reset = el('button', { type: 'button', text: 'reset zoom' });
    root.appendChild(el('div', { cls: 'controls' }, [byCount, byBytes, search, reset,
      el('span', { cls: 'muted', text: 'click a frame to zoom; the widest frames allocate most' })]));
    root.appendChild(el('div', { id: 'flame' }));
    function choose(by) {
      byCount.className = by === 'allocs' ? 'on' : '';
      byBytes.className = by === 'bytes' ? 'on' : '';
      drawFlame(by);
      if (search.value) flame.search(search.value);
    }
    byCount.onclick = function () { choose('allocs'); };
    byBytes.onclick = function () { choose('bytes'); };
    search.oninput = function () { if (search.value) flame.search(search.value); else flame.clear(); };
    reset.onclick = function () { flame.resetZoom(); };
    choose('allocs');
  }

  // --- over time ---------------------------------------------------------------------------------
  function overTime() {
    var s = data.series;
    root.appendChild(el('h2', { text: 'Over time' }));
    if (!s || !s.t_ns || s.t_ns.length < 2) {
      root.appendChild(el('p', { cls: 'muted', text: s && s.t_ns ? 'The trace holds ' + s.t_ns.length + ' point' + (s.t_ns.length === 1 ? '' : 's') + ': the run was shorter than two snapshot intervals (POOLPROBE_INTERVAL).' : 'This trace holds no time series (written by a shim without it).' }));
      return;
    }
    var labels = s.t_ns.map(function (t) { return ns(t); });
    var palette = ['#1d2330', '#2b6cb0', '#1f7a4d', '#b7791f', '#6b46c1', '#c53030', '#2c7a7b'];
    // Cumulative allocations -> allocations per second between points (null where unknown).
    function rate(a) {
      return a.map(function (v, i) {
        var prev = i ? a[i - 1] : 0, dt = (s.t_ns[i] - (i ? s.t_ns[i - 1] : 0)) / 1e9;
        return v === null || prev === null || dt <= 0 ? null : (v - prev) / dt;
      });
    }
    function lines(title, field, fmt, transform) {
      var all = [{ key: 'process', line: s.process }].concat(s.sites.map(function (x) { return { key: x.key, line: x }; }));
      var sets = all.map(function (x, i) {
        return { label: x.key, data: transform(x.line[field]), borderColor: palette[i % palette.length],
                 borderWidth: i ? 1.5 : 2.5, pointRadius: 0, spanGaps: false };
      });
      var box = chartBox(title, true);
      drawLater(box.canvas, { type: 'line', data: { labels: labels, datasets: sets },
        options: { responsive: true, maintainAspectRatio: false,
                   scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return fmt(v); } } } } } });
      return box.node;
    }
    root.appendChild(el('p', { cls: 'muted', text: 'Process ' + s.pid + ', one point per trace write (every ' + ns(s.interval_ns) +
      ' and at exit); the busiest sites at the end. A gap: the site was not among the eight busiest stacks then.' }));
    root.appendChild(el('div', { cls: 'charts' }, [
      lines('allocations per second', 'allocs', count, rate),
      lines('live bytes', 'live_bytes', function (v) { return bytes(v) + 'B'; }, function (a) { return a; })]));
  }

  // --- assemble, draw, and say what was drawn ---------------------------------------------------------
  function canvasDrawn(canvas) {
    var ctx = canvas.getContext('2d'), w = canvas.width, h = canvas.height;
    if (!w || !h) return false;
    var px = ctx.getImageData(0, 0, w, h).data;
    for (var i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
    return false;
  }

  function run() {
    header();
    gate();
    cards();
    flameSection();
    overTime();
    root.appendChild(el('footer', { text: 'poolprobe-report ' + data.version + ' · libraries embedded with their licences (see the page source)' }));
    charts.forEach(function (c) { new Chart(c.canvas, c.config); });
    var drawn = charts.filter(function (c) { return canvasDrawn(c.canvas); }).length;
    var status = el('div', { id: 'pp-status', hidden: '' });
    status.setAttribute('data-charts', String(charts.length));
    status.setAttribute('data-drawn', String(drawn));
    status.setAttribute('data-flame-rects', String(document.querySelectorAll('#flame svg rect').length));
    status.setAttribute('data-errors', String((window.ppErrors || []).length));
    status.textContent = (window.ppErrors || []).join('\n');
    document.body.appendChild(status);
  }

  try {
    run();
  } catch (e) {
    (window.ppErrors = window.ppErrors || []).push(String(e && e.stack || e));
    var status = el('div', { id: 'pp-status', hidden: '', 'data-errors': String(window.ppErrors.length) }, [window.ppErrors.join('\n')]);
    document.body.appendChild(status);
    throw e;
  }
})();
