// The exercise-cache dashboard: plain browser JavaScript, no build step. It reads
// GET /dashboard/data and GET /exercise-cache/maintenance/runs, draws them with Chart.js (served by
// the service from node_modules) and refreshes itself; quarantined entries can be released or
// deleted from the page (a read-write key is needed for that). With API_KEYS set on the server it asks for a
// key and keeps it in sessionStorage, so it lives as long as the tab.
(function () {
  'use strict';

  var KEY_STORAGE = 'exercise-cache.api-key';
  var body = document.body;
  var authRequired = body.dataset.authRequired === 'true';
  var refreshMs = Number(body.dataset.refreshSeconds || 30) * 1000;
  var $ = function (id) { return document.getElementById(id); };

  var charts = {};
  var timer = null;
  var inFlight = null;
  var lastLoadedAt = 0;
  var loads = 0;

  var COLORS = {
    hit: '#2f9e44',
    near: '#f08c00',
    stale: '#e8590c',
    coalesced: '#0ca678',
    miss: '#adb5bd',
    rate: '#1c7ed6',
    created: '#7048e8',
    saved: '#2f9e44',
  };

  // ---- formatting --------------------------------------------------------------------------

  var integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  var percent1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
  var relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto', style: 'short' });

  function formatMoney(value) {
    var v = Number(value) || 0;
    var digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 1 ? 2 : 4;
    return '$' + v.toLocaleString('en-US', { minimumFractionDigits: Math.min(digits, 2), maximumFractionDigits: digits });
  }

  function formatPercent(value) {
    return value === null || value === undefined ? '–' : percent1.format(Number(value)) + ' %';
  }

  function formatDuration(ms) {
    if (ms === null || ms === undefined) return '–';
    if (ms < 1000) return integer.format(ms) + ' ms';
    return percent1.format(ms / 1000) + ' s';
  }

  function formatAgo(iso) {
    if (!iso) return '–';
    var seconds = (new Date(iso).getTime() - Date.now()) / 1000;
    var abs = Math.abs(seconds);
    if (abs < 45) return 'just now';
    if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
    if (abs < 86400) return relative.format(Math.round(seconds / 3600), 'hour');
    return relative.format(Math.round(seconds / 86400), 'day');
  }

  function dayLabel(date) {
    var d = new Date(date + 'T00:00:00Z');
    return d.toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
  }

  // ---- data --------------------------------------------------------------------------------

  function apiKey() {
    try { return sessionStorage.getItem(KEY_STORAGE); } catch (e) { return null; }
  }

  function HttpError(status, message) {
    this.status = status;
    this.message = message;
  }

  function getJson(url) {
    return requestJson('GET', url);
  }

  function requestJson(method, url) {
    var headers = { Accept: 'application/json' };
    var key = apiKey();
    if (key) headers.Authorization = 'Bearer ' + key;
    return fetch(url, { method: method, headers: headers, cache: 'no-store' }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (payload) {
        if (response.ok) return payload;
        var message = payload && payload.message;
        if (Array.isArray(message)) message = message.join('; ');
        throw new HttpError(response.status, message || response.status + ' ' + response.statusText);
      });
    }, function (error) {
      throw new HttpError(0, 'the service did not answer (' + error.message + ')');
    });
  }

  function load() {
    if (inFlight) return inFlight;
    clearTimeout(timer);
    if (authRequired && !apiKey()) {
      showKeyForm('');
      return Promise.resolve();
    }
    var days = $('days').value;
    var namespace = $('namespace').value;
    var dataUrl = '/dashboard/data?days=' + encodeURIComponent(days) + (namespace ? '&namespace=' + encodeURIComponent(namespace) : '');
    var runs = getJson('/exercise-cache/maintenance/runs?limit=10').then(
      function (rows) { return { rows: Array.isArray(rows) ? rows : (rows && (rows.runs || rows.items)) || [] }; },
      function (error) { return { error: error }; }
    );
    inFlight = Promise.all([getJson(dataUrl), runs])
      .then(function (results) {
        var runsResult = results[1];
        if (runsResult.error && runsResult.error.status === 401) throw runsResult.error;
        render(results[0], runsResult);
        lastLoadedAt = Date.now();
        loads += 1;
        body.dataset.loads = String(loads);
        body.dataset.state = 'ready';
        $('error-banner').hidden = true;
        setStatus('Updated ' + new Date().toLocaleTimeString('en-GB') + ' · every ' + refreshMs / 1000 + ' s', false);
      })
      .catch(function (error) {
        if (error && error.status === 401) {
          try { sessionStorage.removeItem(KEY_STORAGE); } catch (e) { /* storage disabled */ }
          showKeyForm('The key was not accepted: ' + error.message);
          return;
        }
        body.dataset.state = 'error';
        var banner = $('error-banner');
        banner.textContent = 'Could not load the statistics: ' + (error && error.message ? error.message : String(error));
        banner.hidden = false;
        setStatus(lastLoadedAt ? 'Showing data from ' + new Date(lastLoadedAt).toLocaleTimeString('en-GB') : 'No data', true);
      })
      .then(function () {
        inFlight = null;
        schedule();
      });
    return inFlight;
  }

  function schedule() {
    clearTimeout(timer);
    if (document.hidden || !$('key-panel').hidden) return;
    timer = setTimeout(load, refreshMs);
  }

  function setStatus(text, stale) {
    var status = $('status');
    status.textContent = text;
    status.classList.toggle('stale', stale);
  }

  // ---- key form ----------------------------------------------------------------------------

  function showKeyForm(message) {
    body.dataset.state = 'key-required';
    $('content').hidden = true;
    $('error-banner').hidden = true;
    $('key-panel').hidden = false;
    $('forget-key').hidden = true;
    $('controls').hidden = true; // range and refresh mean nothing without data
    var error = $('key-error');
    error.textContent = message;
    error.hidden = !message;
    setStatus('API key required', false);
    $('key-input').focus();
  }

  $('key-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var key = $('key-input').value.trim();
    if (!key) return;
    try { sessionStorage.setItem(KEY_STORAGE, key); } catch (e) { /* storage disabled: key lost on reload */ }
    $('key-input').value = '';
    $('key-panel').hidden = true;
    setStatus('Loading…', false);
    load();
  });

  $('forget-key').addEventListener('click', function () {
    try { sessionStorage.removeItem(KEY_STORAGE); } catch (e) { /* storage disabled */ }
    clearTimeout(timer);
    showKeyForm('');
  });

  $('refresh').addEventListener('click', function () { load(); });
  $('days').addEventListener('change', function () { load(); });
  $('namespace').addEventListener('change', function () { load(); });

  document.addEventListener('visibilitychange', function () {
    if (document.hidden) clearTimeout(timer);
    else if (Date.now() - lastLoadedAt >= refreshMs) load();
    else schedule();
  });

  // ---- rendering ---------------------------------------------------------------------------

  function render(data, runs) {
    $('key-panel').hidden = true;
    $('content').hidden = false;
    $('controls').hidden = false;
    $('forget-key').hidden = !(authRequired && apiKey());
    renderNamespaceChoice(data.namespaces, data.namespace);
    renderKpis(data);
    renderCharts(data.daily);
    renderTypes(data.byType);
    renderGroups($('table-namespaces'), data.namespaces, 'No lookups or entries yet.', '(none)');
    renderGroups($('table-versions'), data.generatorVersions, 'No lookups or entries yet.', '(none)');
    $('versions-scope').textContent = data.namespace ? 'namespace ' + data.namespace : 'whole cache';
    renderEntries($('table-popular'), data.popular, 'No live entries yet.');
    renderEntries($('table-lru'), data.evictionCandidates, 'No live entries yet.');
    renderQuarantine(data.quarantine || []);
    renderRuns(runs);
  }

  /** The namespace choices: every namespace with entries or lookups; the current choice stays even if it has none. */
  function renderNamespaceChoice(namespaces, current) {
    var select = $('namespace');
    var names = namespaces.map(function (g) { return g.name; }).filter(function (name) { return name && name !== '(unknown)'; });
    if (current && names.indexOf(current) < 0) names.push(current);
    var wanted = [''].concat(names);
    var have = Array.prototype.map.call(select.options, function (o) { return o.value; });
    if (wanted.join('\n') === have.join('\n')) return;
    select.replaceChildren();
    wanted.forEach(function (name) {
      var option = document.createElement('option');
      option.value = name;
      option.textContent = name || 'All';
      select.appendChild(option);
    });
    select.value = current || '';
  }

  function renderKpis(data) {
    var o = data.overview;
    var l = data.lookups;
    $('kpi-hit-rate').textContent = l.totalLookups > 0 ? formatPercent(l.cacheHitRate) : '–';
    $('kpi-hit-rate-sub').textContent = l.totalLookups > 0
      ? 'plus ' + formatPercent((100 * l.nearHits) / l.totalLookups) + ' near hits · ' + formatPercent(l.staleRate) + ' stale'
      : 'no lookups recorded yet';
    $('kpi-lookups').textContent = integer.format(l.totalLookups);
    $('kpi-lookups-sub').textContent = integer.format(l.hits) + ' hits · ' + integer.format(l.nearHits) + ' near · ' +
      integer.format(l.stale) + ' stale · ' + integer.format(l.coalesced) + ' coalesced · ' + integer.format(l.misses) + ' misses';
    $('kpi-cost-saved').textContent = formatMoney(l.costSaved);
    $('kpi-cost-saved-sub').textContent = 'stored entries cost ' + formatMoney(o.totalGenerationCost);

    var size = data.size;
    $('kpi-size').textContent = integer.format(size.activeEntries);
    $('kpi-size-sub').textContent = 'of ' + integer.format(size.maxEntries) + ' (' + percent1.format(size.usedPercent) + ' %) · ' +
      integer.format(size.expiredEntries) + ' expired';
    var meter = $('size-meter');
    meter.setAttribute('aria-valuenow', String(size.activeEntries));
    meter.classList.toggle('high', size.usedPercent >= 90 && size.usedPercent <= 100);
    meter.classList.toggle('over', size.usedPercent > 100);
    $('size-meter-fill').style.width = Math.min(100, size.usedPercent) + '%';
  }

  function baseOptions(yTick, stacked, counts) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: 'index', intersect: false },
      plugins: {
        legend: { display: !!stacked, position: 'bottom', labels: { boxWidth: 10, boxHeight: 10, font: { size: 11 } } },
        tooltip: { callbacks: { label: function (ctx) { return ' ' + (ctx.dataset.label ? ctx.dataset.label + ': ' : '') + yTick(ctx.parsed.y); } } },
      },
      scales: {
        x: { stacked: !!stacked, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12, font: { size: 11 } } },
        y: { stacked: !!stacked, beginAtZero: true, ticks: { callback: yTick, maxTicksLimit: 6, precision: counts ? 0 : undefined, font: { size: 11 } }, grid: { color: '#eef1f4' } },
      },
    };
  }

  function chart(id, type, datasets, options) {
    var existing = charts[id];
    if (existing) {
      existing.data.labels = datasets.labels;
      existing.data.datasets.forEach(function (dataset, i) { dataset.data = datasets.sets[i].data; });
      existing.update('none');
      return;
    }
    charts[id] = new window.Chart($(id), { type: type, data: { labels: datasets.labels, datasets: datasets.sets }, options: options });
  }

  function renderCharts(daily) {
    var labels = daily.map(function (d) { return dayLabel(d.date); });
    var pick = function (field) { return daily.map(function (d) { return d[field]; }); };

    var rateOptions = baseOptions(function (v) { return v === null || v === undefined ? '–' : percent1.format(v) + ' %'; });
    rateOptions.scales.y.suggestedMax = 100;
    rateOptions.scales.y.max = 100;
    chart('chart-hit-rate', 'line', {
      labels: labels,
      sets: [{ label: 'Hit rate', data: pick('hitRate'), borderColor: COLORS.rate, backgroundColor: 'rgba(28,126,214,0.12)', fill: true, tension: 0.25, pointRadius: 2, spanGaps: true }],
    }, rateOptions);

    chart('chart-lookups', 'bar', {
      labels: labels,
      sets: [
        { label: 'Hits', data: pick('hits'), backgroundColor: COLORS.hit, borderRadius: 2 },
        { label: 'Near hits', data: pick('nearHits'), backgroundColor: COLORS.near, borderRadius: 2 },
        { label: 'Stale', data: pick('stale'), backgroundColor: COLORS.stale, borderRadius: 2 },
        { label: 'Coalesced', data: pick('coalesced'), backgroundColor: COLORS.coalesced, borderRadius: 2 },
        { label: 'Misses', data: pick('misses'), backgroundColor: COLORS.miss, borderRadius: 2 },
      ],
    }, baseOptions(function (v) { return integer.format(v); }, true, true));

    chart('chart-entries', 'bar', {
      labels: labels,
      sets: [{ label: 'Entries created', data: pick('entriesCreated'), backgroundColor: COLORS.created, borderRadius: 2 }],
    }, baseOptions(function (v) { return integer.format(v); }, false, true));

    chart('chart-cost', 'bar', {
      labels: labels,
      sets: [{ label: 'Saved', data: pick('costSaved'), backgroundColor: COLORS.saved, borderRadius: 2 }],
    }, baseOptions(formatMoney));
  }

  function cell(text, className) {
    var td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function fill(table, rows, emptyText, toCells) {
    var tbody = table.tBodies[0];
    var columns = table.tHead.rows[0].cells.length;
    tbody.replaceChildren();
    if (rows.length === 0) {
      var tr = document.createElement('tr');
      var td = cell(emptyText, 'empty');
      td.colSpan = columns;
      tr.appendChild(td);
      tbody.appendChild(tr);
      return;
    }
    var headers = table.tHead.rows[0].cells;
    rows.forEach(function (row) {
      var tr = document.createElement('tr');
      toCells(row).forEach(function (td, i) {
        // Columns marked "opt" in the header are hidden on narrow screens.
        if (headers[i].classList.contains('opt')) td.classList.add('opt');
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
  }

  function rateCell(lookups, rate) {
    var td = document.createElement('td');
    if (!lookups) {
      td.textContent = '–';
      return td;
    }
    var wrap = document.createElement('div');
    wrap.className = 'rate';
    var bar = document.createElement('div');
    bar.className = 'bar';
    var fillBar = document.createElement('span');
    fillBar.style.width = Math.max(0, Math.min(100, rate)) + '%';
    bar.appendChild(fillBar);
    var pct = document.createElement('span');
    pct.className = 'pct';
    pct.textContent = formatPercent(rate);
    wrap.appendChild(bar);
    wrap.appendChild(pct);
    td.appendChild(wrap);
    return td;
  }

  function renderTypes(rows) {
    fill($('table-types'), rows, 'No exercise types yet.', function (r) {
      return [
        cell(r.exerciseType),
        cell(integer.format(r.activeEntries), 'num'),
        cell(integer.format(r.totalLookups), 'num'),
        rateCell(r.totalLookups, r.cacheHitRate),
        cell(formatMoney(r.estimatedCostSaved), 'num'),
        cell(formatMoney(r.totalGenerationCost), 'num'),
        cell(integer.format(r.reports || 0), 'num'),
        cell(integer.format(r.quarantinedEntries || 0), 'num'),
      ];
    });
  }

  /** Namespaces or generator versions: entries and lookup outcomes per group. */
  function renderGroups(table, rows, emptyText, noneLabel) {
    fill(table, rows, emptyText, function (r) {
      return [
        cell(r.name === null ? noneLabel : r.name),
        cell(integer.format(r.activeEntries), 'num'),
        cell(integer.format(r.totalLookups), 'num'),
        rateCell(r.totalLookups, r.cacheHitRate),
        cell(integer.format(r.stale), 'num'),
      ];
    });
  }

  function renderEntries(table, rows, emptyText) {
    fill(table, rows, emptyText, function (r) {
      var topics = cell(r.topics && r.topics.length ? r.topics.join(', ') : '(none)', 'topics');
      topics.title = 'key ' + r.cacheKey + (r.variant > 1 ? ' · variant ' + r.variant : '');
      return [
        cell(r.exerciseType),
        cell(String(r.difficulty), 'num'),
        topics,
        cell(integer.format(r.usageCount), 'num'),
        cell(formatAgo(r.lastUsedAt)),
      ];
    });
  }

  function actionButton(label, className, onClick) {
    var button = document.createElement('button');
    button.type = 'button';
    button.textContent = label;
    if (className) button.className = className;
    button.addEventListener('click', onClick);
    return button;
  }

  /** Release or delete one quarantined entry, then reload; a refusal (read-only key, gone meanwhile) shows in the banner. */
  function actOnQuarantine(method, url, buttons) {
    buttons.forEach(function (b) { b.disabled = true; });
    return requestJson(method, url).then(
      function () { return load(); },
      function (error) {
        buttons.forEach(function (b) { b.disabled = false; });
        var banner = $('error-banner');
        banner.textContent = error.status === 403
          ? 'Releasing or deleting needs a read-write API key.'
          : 'Could not change the quarantine: ' + error.message;
        banner.hidden = false;
      }
    );
  }

  function renderQuarantine(rows) {
    fill($('table-quarantine'), rows, 'No entries in quarantine.', function (r) {
      var topics = cell(r.topics && r.topics.length ? r.topics.join(', ') : '(none)', 'topics');
      topics.title = 'key ' + r.key + (r.variant > 1 ? ' · variant ' + r.variant : '');
      var reasons = cell(r.reports.map(function (report) { return report.reason; }).join(' · ') || '–', 'details');
      reasons.title = JSON.stringify(r.exercise);
      var since = cell(formatAgo(r.quarantinedAt));
      since.title = r.quarantinedAt;
      var actions = document.createElement('td');
      actions.className = 'actions';
      var base = '/exercise-cache/quarantine/' + encodeURIComponent(r.key);
      var release = actionButton('Release', 'secondary', function () { actOnQuarantine('POST', base + '/release', [release, remove]); });
      var remove = actionButton('Delete', 'danger', function () { actOnQuarantine('DELETE', base, [release, remove]); });
      release.dataset.key = r.key;
      remove.dataset.key = r.key;
      actions.appendChild(release);
      actions.appendChild(remove);
      return [cell(r.exerciseType), cell(String(r.difficulty), 'num'), topics, reasons, since, actions];
    });
  }

  function statusClass(status) {
    var s = String(status || '').toLowerCase();
    if (s === 'ok' || s === 'success' || s === 'succeeded' || s === 'done') return 'ok';
    if (s === 'failed' || s === 'error' || s === 'timeout') return 'failed';
    if (s === 'running' || s === 'started') return 'running';
    return '';
  }

  function renderRuns(runs) {
    var table = $('table-runs');
    if (runs.error) {
      var reason = runs.error.status === 403
        ? 'Maintenance runs need a read-write API key.'
        : 'Maintenance runs are unavailable: ' + runs.error.message;
      fill(table, [], reason, null);
      $('last-refresh').textContent = 'unknown';
      return;
    }
    fill(table, runs.rows, 'No maintenance runs recorded yet.', function (r) {
      var badge = document.createElement('span');
      badge.className = 'badge ' + statusClass(r.status);
      badge.textContent = r.status;
      var statusTd = document.createElement('td');
      statusTd.appendChild(badge);
      var started = cell(formatAgo(r.startedAt));
      started.title = r.startedAt || '';
      return [
        cell(r.job),
        statusTd,
        cell(r.affected === null || r.affected === undefined ? '–' : integer.format(r.affected), 'num'),
        cell(formatDuration(r.durationMs), 'num'),
        started,
        cell(r.error || '', statusClass(r.status) === 'failed' ? 'details error-cell' : 'details'),
      ];
    });
    var refresh = runs.rows.filter(function (r) { return /refresh/i.test(r.job) && statusClass(r.status) === 'ok'; })[0];
    $('last-refresh').textContent = refresh ? formatAgo(refresh.finishedAt || refresh.startedAt) : 'not in the last runs';
  }

  if (typeof window.Chart !== 'function') {
    body.dataset.state = 'error';
    $('error-banner').textContent = 'The chart library did not load.';
    $('error-banner').hidden = false;
    return;
  }
  window.Chart.defaults.font.family = getComputedStyle(body).fontFamily;
  window.Chart.defaults.color = '#66727f';
  load();
})();
