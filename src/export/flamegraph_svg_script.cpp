// The flame graph's embedded JavaScript: details on hover, zoom on click, regex search.
namespace waggle {

extern const char* const kFlameGraphScript;
const char* const kFlameGraphScript = R"JS((function () {
  'use strict';
  var svg = document.getElementById('waggle-flamegraph');
  var total = +svg.getAttribute('data-total');
  var plotX = +svg.getAttribute('data-plot-x');
  var plotW = +svg.getAttribute('data-plot-width');
  var charW = +svg.getAttribute('data-char-width');
  var details = document.getElementById('details');
  var matched = document.getElementById('matched');
  var unzoomBtn = document.getElementById('unzoom');
  var searchBtn = document.getElementById('search');
  var resetSearchBtn = document.getElementById('reset-search');
  var MATCH = 'rgb(230,0,230)';
  var frames = [], zoomed = null, term = null;

  Array.prototype.forEach.call(svg.querySelectorAll('g.frame'), function (g) {
    var rect = g.querySelector('rect');
    frames.push({
      g: g, rect: rect, text: g.querySelector('text'),
      name: g.getAttribute('data-name'), module: g.getAttribute('data-module'),
      samples: +g.getAttribute('data-samples'), depth: +g.getAttribute('data-depth'),
      offset: +g.getAttribute('data-offset'), fill: rect.getAttribute('fill')
    });
    g.frameIndex = frames.length - 1;
  });

  function pct(n) { return (total ? 100 * n / total : 0).toFixed(2) + '%'; }

  function fit(f, x, w) {
    f.rect.setAttribute('x', x.toFixed(2));
    f.rect.setAttribute('width', w.toFixed(2));
    f.text.setAttribute('x', (x + 3).toFixed(2));
    var chars = Math.floor((w - 6) / charW), label = '';
    if (chars >= 3) label = f.name.length <= chars ? f.name : f.name.substring(0, chars - 2) + '..';
    f.text.textContent = label;
  }

  function frameOf(node) {
    while (node && node !== svg) {
      if (node.frameIndex !== undefined) return frames[node.frameIndex];
      node = node.parentNode;
    }
    return null;
  }

  function zoom(z) {
    var lo = z.offset, hi = z.offset + z.samples;
    frames.forEach(function (f) {
      var end = f.offset + f.samples;
      f.g.classList.remove('hidden');
      f.g.classList.remove('parent');
      if (f.depth < z.depth && f.offset <= lo && end >= hi) {
        f.g.classList.add('parent');
        fit(f, plotX, plotW);
      } else if (f.depth >= z.depth && f.offset >= lo && end <= hi) {
        fit(f, plotX + (f.offset - lo) * plotW / (hi - lo), f.samples * plotW / (hi - lo));
      } else {
        f.g.classList.add('hidden');
      }
    });
    zoomed = z;
    unzoomBtn.classList.remove('hidden');
  }

  function unzoom() {
    frames.forEach(function (f) {
      f.g.classList.remove('hidden');
      f.g.classList.remove('parent');
      fit(f, plotX + f.offset * plotW / total, f.samples * plotW / total);
    });
    zoomed = null;
    unzoomBtn.classList.add('hidden');
  }

  function clearSearch() {
    frames.forEach(function (f) {
      f.g.classList.remove('match');
      f.rect.setAttribute('fill', f.fill);
    });
    term = null;
    matched.textContent = ' ';
    resetSearchBtn.classList.add('hidden');
    matched.removeAttribute('data-search');
  }

  function search(t) {
    clearSearch();
    if (!t) return;
    var re;
    try { re = new RegExp(t); } catch (e) { matched.textContent = 'Bad regex: ' + t; return; }
    var spans = [];
    frames.forEach(function (f) {
      if (!re.test(f.name)) return;
      f.g.classList.add('match');
      f.rect.setAttribute('fill', MATCH);
      spans.push([f.offset, f.offset + f.samples]);
    });
    // Matches nest (a recursive function, a caller and its callee): count each sample once.
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var covered = 0, end = 0;
    spans.forEach(function (s) {
      if (s[1] <= end) return;
      covered += s[1] - Math.max(s[0], end);
      end = s[1];
    });
    term = t;
    matched.textContent = 'Matched: ' + pct(covered);
    matched.setAttribute('data-samples', covered);
    resetSearchBtn.classList.remove('hidden');
    matched.setAttribute('data-search', t);
  }

  svg.addEventListener('mouseover', function (e) {
    var f = frameOf(e.target);
    if (!f) return;
    details.textContent = 'Function: ' + f.name + (f.module ? ' (' + f.module + ')' : '') +
        ' | ' + f.samples + ' samples, ' + pct(f.samples);
  });
  svg.addEventListener('mouseout', function (e) {
    if (frameOf(e.target)) details.textContent = ' ';
  });
  svg.addEventListener('click', function (e) {
    var f = frameOf(e.target);
    if (f) zoom(f);
  });
  unzoomBtn.addEventListener('click', unzoom);
  resetSearchBtn.addEventListener('click', clearSearch);
  searchBtn.addEventListener('click', function () {
    var t = window.prompt('Search frames (regular expression):', term || '');
    if (t !== null) search(t);
  });

  // A search given in the URL ("#search=REGEX" or "?s=REGEX") runs at load: links and
  // headless tests can open the graph already searched.
  var m = /^#search=(.*)$/.exec(window.location.hash) || /[?&]s=([^&]*)/.exec(window.location.search);
  if (m) {
    var t = m[1];
    try { t = decodeURIComponent(t); } catch (e) { /* not percent-encoded: as is */ }
    search(t);
  }
})();
)JS";

}  // namespace waggle
