// Alerts that are hard to miss. On every page of those who decide alerts: the title starts with "(N) " while
// N alerts await a decision (the header's counter, polled by htmx, carries N). On the live console: the event
// stream (reconnected with a visible banner, asking for the alerts after the newest one held, so none is
// missed and none shown twice), a chime made with the Web Audio API (mutable, remembered in this browser),
// desktop notifications once the user asks for them (no name in them: a lock screen may show them), new
// alerts announced in the live region, and focus kept on a card after a decision replaces it.
(function () {
  "use strict";
  var SOUND_KEY = "openfr-alert-sound";
  var LOST = "Connection lost \u2014 reconnecting\u2026";
  var baseTitle = document.title.replace(/^\(\d+\) /, "");

  function byId(id) { return document.getElementById(id); }

  // What the live region says: news within 1.5 s of the last is added to it (an alert arriving as a
  // decision is announced must not silence either), and it is cleared first so the same words are said again.
  var said = [];
  var saidAt = 0;
  var saying = null;

  function announce(text) {
    var region = byId("announcer");
    if (!region) { return; }
    if (Date.now() - saidAt > 1500) { said = []; }
    said.push(text);
    saidAt = Date.now();
    if (saying) { return; }
    region.textContent = "";
    saying = window.setTimeout(function () {
      saying = null;
      region.textContent = said.join(" ");
    }, 60);
  }

  function syncTitle() {
    var badge = byId("pending-badge");
    var n = badge ? parseInt(badge.getAttribute("data-pending"), 10) || 0 : 0;
    document.title = (n > 0 ? "(" + n + ") " : "") + baseTitle;
  }

  function fire(name) { document.body.dispatchEvent(new CustomEvent(name, { bubbles: true })); }

  // -- the chime ----------------------------------------------------------------------------------------
  var audio = null;
  var lastChime = 0;
  var chimes = 0;

  function muted() {
    try { return localStorage.getItem(SOUND_KEY) === "muted"; } catch (e) { return false; }
  }

  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return null; }
    if (!audio) { audio = new Context(); }
    if (audio.state === "suspended") {
      var resumed = audio.resume();
      if (resumed && resumed.catch) { resumed.catch(function () { /* needs a key press or click first */ }); }
    }
    return audio;
  }

  function tone(context, hertz, at, length) {
    var oscillator = context.createOscillator();
    var gain = context.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = hertz;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.35, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
    oscillator.connect(gain);
    gain.connect(context.destination);
    oscillator.start(at);
    oscillator.stop(at + length + 0.05);
  }

  function chime(alerts) {
    var now = Date.now();
    if (muted() || now - lastChime < 1500) { return; } // a burst of alerts gets one chime
    var context = audioContext();
    if (!context) { return; }
    lastChime = now;
    var start = context.currentTime + 0.01;
    [880, 660, 880].forEach(function (hertz, i) { tone(context, hertz, start + i * 0.2, 0.16); });
    chimes += 1;
    alerts.setAttribute("data-chimes", String(chimes));
    var hint = byId("notify-state");
    if (hint && context.state !== "running") {
      hint.textContent = "The browser holds the alert sound back until you press a key or click on this page.";
    }
  }

  function setUpSound() {
    var button = byId("sound-toggle");
    if (!button) { return; }
    function show() { button.textContent = muted() ? "Unmute alert sound" : "Mute alert sound"; }
    button.hidden = false;
    show();
    button.addEventListener("click", function () {
      try { localStorage.setItem(SOUND_KEY, muted() ? "on" : "muted"); } catch (e) { /* private mode */ }
      show();
      announce(muted() ? "Alert sound muted" : "Alert sound on");
    });
    // Browsers let a page make sound only after the user has used it: any key or click unlocks it.
    function unlock() {
      if (!muted()) { audioContext(); }
      var hint = byId("notify-state");
      if (hint && hint.textContent.indexOf("alert sound") >= 0) { hint.textContent = ""; }
    }
    document.addEventListener("keydown", unlock, { once: true });
    document.addEventListener("pointerdown", unlock, { once: true });
  }

  // -- desktop notifications ------------------------------------------------------------------------------
  function setUpNotifications() {
    var button = byId("notify-enable");
    var state = byId("notify-state");
    if (!button || !state) { return; }
    if (!("Notification" in window)) {
      state.textContent = "This browser cannot show desktop notifications.";
      return;
    }
    function show() {
      var permission = Notification.permission;
      button.hidden = permission !== "default";
      state.textContent = permission === "granted" ? "Desktop notifications are on."
        : permission === "denied" ? "Desktop notifications are blocked in this browser's settings." : "";
    }
    button.addEventListener("click", function () {
      var asked = Notification.requestPermission();
      if (asked && asked.then) { asked.then(show); }
    });
    show();
  }

  function notify(cards) {
    if (!("Notification" in window) || Notification.permission !== "granted") { return; }
    if (document.visibilityState === "visible" && document.hasFocus()) { return; } // the console is in front
    var newest = cards[cards.length - 1];
    var where = newest.getAttribute("data-deployment") + " / " + newest.getAttribute("data-camera");
    // Deployment and camera only: a notification can show on a lock screen or a shared monitor.
    var body = cards.length === 1 ? "New alert on " + where : cards.length + " new alerts, the latest on " + where;
    try {
      var shown = new Notification("openfr: alert awaiting a decision", { body: body, tag: "openfr-alert" });
      shown.onclick = function () { window.focus(); newest.focus(); shown.close(); };
    } catch (e) { /* some browsers allow notifications from a service worker only */ }
  }

  // -- the event stream -------------------------------------------------------------------------------------
  function startStream(alerts) {
    var url = alerts.getAttribute("data-stream");
    var last = parseInt(alerts.getAttribute("data-last-alert"), 10) || 0;
    var heartbeat = (parseFloat(alerts.getAttribute("data-heartbeat-s")) || 15) * 1000;
    var banner = byId("stream-banner");
    var source = null;
    var retry = null;
    var delay = 1000;
    var lost = false;
    var heard = Date.now();
    var arrived = [];
    var flush = null;

    function show(text) {
      if (banner) { banner.textContent = text; }
      alerts.setAttribute("data-stream-state", text ? "lost" : "open");
    }

    function arrivedNow() {
      flush = null;
      var cards = arrived;
      arrived = [];
      var newest = cards[cards.length - 1];
      var where = newest.getAttribute("data-deployment") + " / camera " + newest.getAttribute("data-camera");
      announce(cards.length === 1 ? "New alert on " + where + ", awaiting a decision."
        : cards.length + " new alerts, the latest on " + where + ".");
      chime(alerts);
      notify(cards);
      fire("openfr-pending");
    }

    function onAlert(event) {
      heard = Date.now();
      var id = parseInt(event.lastEventId, 10) || 0;
      if (id > last) { last = id; }
      if (byId("alert-" + id)) { return; } // on the page already
      var holder = document.createElement("div");
      holder.innerHTML = event.data;
      var card = holder.querySelector(".alert-card");
      if (!card) { return; }
      alerts.insertBefore(card, alerts.firstChild);
      if (window.htmx) { window.htmx.process(card); }
      var state = card.getAttribute("data-state");
      if (state !== "pending" && state !== "awaiting-second") { return; } // decided by a colleague meanwhile
      arrived.push(card);
      if (!flush) { flush = window.setTimeout(arrivedNow, 250); }
    }

    function onHealth(event) {
      heard = Date.now();
      var list = byId("health");
      var holder = document.createElement("ul");
      holder.innerHTML = event.data;
      var item = holder.querySelector("li");
      if (!list || !item) { return; }
      list.insertBefore(item, list.firstChild);
      var topic = item.getAttribute("data-topic");
      if (topic === "deployment.live" || topic === "deployment.stopped") {
        fire("openfr-deployments");
        announce(item.textContent);
      }
    }

    function connect() {
      retry = null;
      source = new EventSource(url + "?after=" + last);
      source.addEventListener("open", function () {
        heard = Date.now();
        delay = 1000;
        alerts.setAttribute("data-stream-state", "open");
        if (lost) {
          lost = false;
          show("");
          announce("Connection restored.");
          fire("openfr-pending");
          fire("openfr-deployments");
        }
      });
      source.addEventListener("alert", onAlert);
      source.addEventListener("health", onHealth);
      source.addEventListener("ping", function () { heard = Date.now(); });
      source.addEventListener("error", drop);
    }

    function drop() {
      if (source) { source.close(); source = null; }
      if (!lost) {
        lost = true;
        show(LOST);
      }
      if (retry) { return; }
      // A session that ended cannot reconnect: ask once, and go to the sign-in page if so.
      fetch("/console/live", { headers: { "HX-Request": "true" }, credentials: "same-origin" }).then(function (r) {
        if (r.status === 401) { window.location.assign("/login?next=/console"); }
      }).catch(function () { /* offline: keep trying */ });
      retry = window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    }

    // A stream that went silent (a proxy or network that dropped it without telling) is dead too.
    window.setInterval(function () {
      if (source && Date.now() - heard > 3 * heartbeat) { drop(); }
    }, 5000);
    window.addEventListener("pagehide", function () { if (source) { source.close(); } });
    connect();
  }

  // -- focus after a decision -----------------------------------------------------------------------------
  document.addEventListener("htmx:afterSettle", function (event) {
    syncTitle();
    var card = event.target;
    if (!card || !card.classList || !card.classList.contains("alert-card")) { return; }
    card.focus();
    var title = card.querySelector("h3");
    announce((title ? title.textContent : "Alert") + ".");
    fire("openfr-pending");
  });

  document.addEventListener("DOMContentLoaded", function () {
    syncTitle();
    var alerts = byId("alerts");
    if (!alerts || !alerts.getAttribute("data-stream")) { return; }
    setUpSound();
    setUpNotifications();
    startStream(alerts);
  });
})();
