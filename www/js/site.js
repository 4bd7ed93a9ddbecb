/*
 * kserver demo site: nav highlighting, copy buttons, a live "served by"
 * indicator (HEAD of this page: Server header, status, round-trip time), a
 * small latency sampler, and the mode-switch simulator on modes.html.
 * No frameworks and no requests to any other origin.
 */
(function () {
	'use strict';

	function $$(sel, root) {
		return Array.prototype.slice.call((root || document).querySelectorAll(sel));
	}

	function canonical(path) {
		if (path.slice(-1) === '/')
			path += 'index.html';
		return path;
	}

	/* Mark the nav link of the current page, or of the section (docs/) it is in. */
	function highlightNav() {
		var here = canonical(location.pathname);
		var brand = document.querySelector('.brand');
		var home = brand ? canonical(new URL(brand.getAttribute('href'), location.href).pathname) : '/';
		var homeDir = home.replace(/[^/]*$/, '');
		$$('.nav a').forEach(function (a) {
			var target = canonical(new URL(a.getAttribute('href'), location.href).pathname);
			var dir = target.replace(/[^/]*$/, '');
			if (target === here || (dir !== homeDir && here.indexOf(dir) === 0))
				a.setAttribute('aria-current', 'page');
			else
				a.removeAttribute('aria-current');
		});
	}

	/* ---------- copy to clipboard ---------- */

	function copyText(text) {
		if (navigator.clipboard && window.isSecureContext)
			return navigator.clipboard.writeText(text);
		return new Promise(function (resolve, reject) {
			var ta = document.createElement('textarea');
			ta.value = text;
			ta.setAttribute('readonly', '');
			ta.style.position = 'fixed';
			ta.style.opacity = '0';
			document.body.appendChild(ta);
			ta.select();
			try {
				if (document.execCommand('copy'))
					resolve();
				else
					reject(new Error('copy refused'));
			} catch (e) {
				reject(e);
			} finally {
				ta.remove();
			}
		});
	}

	/* The commands of a block: its code text without prompts, output or comments. */
	function commandsOf(block) {
		if (block.dataset.copy)
			return block.dataset.copy;
		var code = block.querySelector('code').cloneNode(true);
		$$('.p, .out, .c', code).forEach(function (n) { n.remove(); });
		return code.textContent.split('\n').map(function (l) { return l.replace(/\s+$/, ''); })
			.filter(Boolean).join('\n');
	}

	function addCopyButtons() {
		$$('.cmd, pre.term').forEach(function (block) {
			if (block.classList.contains('no-copy'))
				return;
			var text = commandsOf(block);
			if (!text)
				return;
			var b = document.createElement('button');
			b.type = 'button';
			b.className = 'copy';
			b.textContent = 'Copy';
			b.setAttribute('aria-label', 'Copy: ' + text.split('\n')[0]);
			b.addEventListener('click', function () {
				copyText(text).then(function () {
					b.textContent = 'Copied';
					b.classList.add('done');
				}, function () {
					b.textContent = 'Select & copy';
				});
				setTimeout(function () {
					b.textContent = 'Copy';
					b.classList.remove('done');
				}, 1600);
			});
			block.appendChild(b);
		});
	}

	/* ---------- live "served by" ---------- */

	var pageURL = location.href.split('#')[0];

	/* One uncached request; resolves with what the server said and how long it took. */
	function probe(url, method) {
		var t0 = performance.now();
		return fetch(url, { method: method || 'HEAD', cache: 'no-store' }).then(function (res) {
			var ms = performance.now() - t0;
			if (res.status === 405 || res.status === 501)
				return probe(url, 'GET');
			var extra = [];
			res.headers.forEach(function (v, k) {
				if (/^x-kserver/i.test(k))
					extra.push(k + ': ' + v);
			});
			return res.arrayBuffer().then(function () {
				return {
					ms: ms,
					status: res.status,
					server: res.headers.get('server'),
					type: res.headers.get('content-type'),
					length: res.headers.get('content-length'),
					extra: extra
				};
			});
		});
	}

	function fmtMs(ms) {
		return (ms < 10 ? ms.toFixed(2) : ms.toFixed(1)) + ' ms';
	}

	function servedBy() {
		var els = $$('[data-served-by]');
		var panel = document.querySelector('[data-live]');
		if (!els.length && !panel)
			return;
		if (location.protocol === 'file:') {
			els.forEach(function (el) {
				el.textContent = 'opened from disk - serve it with kserver to see who answers';
			});
			if (panel)
				panel.querySelector('[data-live-hint]').textContent =
					'This page was opened as a file, so there is no server to ask. Run make run and open it over HTTP.';
			return;
		}
		probe(pageURL).then(function (r) {
			var who = r.server || 'a server that sends no Server header';
			els.forEach(function (el) {
				el.textContent = 'served by ' + who + ' \u00b7 ' + r.status + ' \u00b7 ' + fmtMs(r.ms);
				el.classList.add(r.status < 400 ? 'ok' : 'err');
				el.title = 'HEAD ' + location.pathname + ', measured by your browser just now';
			});
			if (panel)
				fillPanel(panel, r);
		}).catch(function (e) {
			els.forEach(function (el) {
				el.textContent = 'could not reach the server (' + e.message + ')';
				el.classList.add('err');
			});
		});
	}

	function fillPanel(panel, r) {
		function set(k, v) {
			var el = panel.querySelector('[data-live-' + k + ']');
			if (el)
				el.textContent = v;
		}
		panel.querySelector('.dot').className = 'dot ' + (r.status < 400 ? 'ok' : 'err');
		set('server', r.server || '(none sent)');
		set('status', String(r.status));
		set('time', fmtMs(r.ms));
		set('type', r.type || '-');
		set('hint', r.extra.length ? r.extra.join(' \u00b7 ') :
			'Measured by your browser: one uncached HEAD request for this page.');
	}

	/* Fetch a few of the site's files, uncached, and show median and spread. */
	function sampler() {
		var panel = document.querySelector('[data-live]');
		var btn = panel && panel.querySelector('[data-live-sample]');
		if (!btn || location.protocol === 'file:')
			return;
		var files = ['index.html', 'css/style.css', 'js/site.js', 'img/logo.svg',
			     'img/sakura.png', 'img/photo.jpg', 'favicon.ico', 'about.html'];
		btn.addEventListener('click', function () {
			var times = [];
			var n = 24, i = 0;
			btn.disabled = true;
			function next() {
				if (i === n)
					return Promise.resolve();
				var url = new URL(files[i % files.length], document.baseURI).href;
				i++;
				return probe(url, 'GET').then(function (r) {
					times.push(r.ms);
				}).then(next);
			}
			next().then(function () {
				var s = times.slice().sort(function (a, b) { return a - b; });
				var med = s.length % 2 ? s[(s.length - 1) / 2] :
					(s[s.length / 2 - 1] + s[s.length / 2]) / 2;
				var max = s[s.length - 1];
				var bars = panel.querySelector('.bars');
				bars.innerHTML = '';
				times.forEach(function (t) {
					var b = document.createElement('span');
					b.style.height = Math.max(4, 100 * t / max) + '%';
					b.title = fmtMs(t);
					if (t === med)
						b.className = 'med';
					bars.appendChild(b);
				});
				panel.querySelector('[data-live-hint]').textContent =
					n + ' uncached GETs of this site\u2019s files: median ' + fmtMs(med) +
					', spread ' + fmtMs(s[0]) + ' \u2013 ' + fmtMs(max) +
					'. Your browser and network, not a benchmark.';
			}).catch(function (e) {
				panel.querySelector('[data-live-hint]').textContent = 'Sampling failed: ' + e.message;
			}).then(function () {
				btn.disabled = false;
			});
		});
	}

	/* ---------- mode-switch simulator (modes.html) ---------- */

	function simulator(root) {
		var NCORES = 4;
		var files = ['/index.html', '/css/style.css', '/img/photo.jpg', '/docs/',
			     '/js/site.js', '/img/logo.svg', '/big.iso', '/favicon.ico'];
		var lanesEl = root.querySelector('.sim-lanes');
		var logEl = root.querySelector('.sim-log');
		var stateEl = root.querySelector('[data-sim-state]');
		var buttons = $$('[data-sim-switch]', root);
		var pauseBtn = root.querySelector('[data-sim-pause]');
		var tick = 0, seq = 0, reqId = 0, paused = false, visible = true;
		var mode = 'user', pending = null, switchTick = 0;
		var cores = [];

		function log(html) {
			var li = document.createElement('li');
			li.innerHTML = '<span class="t">[t=' + String(tick).padStart(4, '0') + ']</span> ' + html;
			logEl.appendChild(li);
			while (logEl.children.length > 60)
				logEl.firstChild.remove();
			logEl.scrollTop = logEl.scrollHeight;
		}

		function m(x) {
			return '<span class="' + (x === 'user' ? 'u' : 's') + '">' + x + '</span>';
		}

		for (var c = 0; c < NCORES; c++) {
			var lane = document.createElement('div');
			lane.className = 'lane';
			lane.innerHTML = '<span class="name">core ' + c + '</span><div class="track"></div>' +
				'<span class="status"></span>';
			lanesEl.appendChild(lane);
			cores.push({ n: c, mode: 'user', req: null, done: [], lane: lane });
		}

		function startRequest(core) {
			var f = files[Math.floor(Math.random() * files.length)];
			var len = f === '/big.iso' ? 40 + Math.floor(Math.random() * 30) :
				3 + Math.floor(Math.random() * 9);
			core.req = { id: ++reqId, path: f, mode: core.mode, left: len, len: len };
		}

		/* A request boundary: the only place a core changes mode. */
		function boundary(core) {
			if (pending && core.mode !== pending) {
				core.mode = pending;
				log('core ' + core.n + ' applied ' + m(pending) + ' at a request boundary, ACK_MODE(' + seq + ')');
				if (cores.every(function (k) { return k.mode === pending; })) {
					log('all ' + NCORES + ' cores on ' + m(pending) + ': switch acknowledged after ' +
					    (tick - switchTick) + ' ticks');
					mode = pending;
					pending = null;
				}
			}
		}

		function step() {
			tick++;
			cores.forEach(function (core) {
				if (core.req) {
					core.req.left--;
					if (core.req.left <= 0) {
						core.done.push(core.req.mode);
						if (core.done.length > 40)
							core.done.shift();
						core.req = null;
						boundary(core);
					}
				} else {
					boundary(core);
				}
				if (!core.req && Math.random() < 0.55)
					startRequest(core);
			});
			render();
		}

		function render() {
			cores.forEach(function (core) {
				var track = core.lane.querySelector('.track');
				var html = core.done.map(function (x) {
					return '<span class="chip ' + (x === 'user' ? 'u' : 's') + '"></span>';
				}).join('');
				if (core.req) {
					var pct = 100 * (core.req.len - core.req.left) / core.req.len;
					html += '<span class="inflight ' + (core.req.mode === 'user' ? 'u' : 's') +
						'"><i style="width:' + pct.toFixed(0) + '%"></i><b>GET ' + core.req.path + '</b></span>';
				} else {
					html += '<span class="idle">idle</span>';
				}
				track.innerHTML = html;
				var st = core.lane.querySelector('.status');
				st.innerHTML = '<span class="tag ' + (core.mode === 'user' ? 'user' : 'sup') + '">' +
					core.mode + '</span>' +
					(pending && core.mode !== pending ? ' <small>pending</small>' : '');
			});
			stateEl.innerHTML = 'server mode: ' + m(mode) +
				(pending ? ' \u2192 ' + m(pending) + ' <small>(switching)</small>' : '');
			buttons.forEach(function (b) {
				b.disabled = !!pending || b.dataset.simSwitch === mode;
			});
		}

		buttons.forEach(function (b) {
			b.addEventListener('click', function () {
				var want = b.dataset.simSwitch;
				if (pending || want === mode)
					return;
				pending = want;
				seq++;
				switchTick = tick;
				log('$ kserverctl switch-mode ' + m(want) + '  \u2192 ioctl SWITCH_MODE, seq ' + seq + ', wake server');
				cores.forEach(function (core) {
					if (!core.req)
						boundary(core);
				});
				render();
			});
		});

		pauseBtn.addEventListener('click', function () {
			paused = !paused;
			pauseBtn.textContent = paused ? 'Resume' : 'Pause';
		});

		if ('IntersectionObserver' in window)
			new IntersectionObserver(function (es) {
				visible = es[0].isIntersecting;
			}).observe(root);

		cores.forEach(function (core) {
			if (Math.random() < 0.7)
				startRequest(core);
		});
		log('server running in ' + m('user') + ' mode on ' + NCORES + ' cores');
		render();
		setInterval(function () {
			if (!paused && visible && !document.hidden)
				step();
		}, 160);
	}

	function init() {
		highlightNav();
		addCopyButtons();
		servedBy();
		sampler();
		var sim = document.getElementById('sim');
		if (sim)
			simulator(sim);
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', init);
	else
		init();
})();
