// The officer's phone page (OIFR, /oifr). The forms work without this script (plain POSTs); with it, they are
// sent with fetch so that a poor signal is never a silent failure: progress while waiting, a time limit, and
// on any failure a message in words with a Retry button that sends the same photo again. The photo is kept in
// this page's memory only (never in storage, never in a URL) and dropped once the search has answered. A large
// photo is shrunk on the phone first (see SEND_MAX_SIDE in web/console/oifr_pages.py): less to send on a weak signal.
(function () {
  "use strict";
  document.documentElement.classList.add("oifr-js"); // the big label becomes the photo button (console.css)

  var held = null; // {ready: Promise of {blob, name}} for the photo chosen; null once searched
  var pending = null; // the request waiting for a Retry: {form, url, body, kind}

  function within(root, selector) { return root ? root.querySelector(selector) : null; }

  function announce(text) {
    var region = document.getElementById("announcer");
    if (!region) { return; }
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 60);
  }

  function token(form) {
    var field = form.querySelector("input[name=csrftoken]");
    return field ? field.value : "";
  }

  // -- the photo ---------------------------------------------------------------------------------------------
  function prepare(file, form) {
    var maxSide = parseInt(form.getAttribute("data-max-side"), 10) || 0;
    var original = { blob: file, name: file.name || "photo.jpg" };
    if (!window.createImageBitmap) { return Promise.resolve(original); }
    return window.createImageBitmap(file).then(function (bitmap) {
      preview(form, bitmap);
      var side = Math.max(bitmap.width, bitmap.height);
      if (!maxSide || side <= maxSide) { return original; }
      var scale = maxSide / side;
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          resolve(blob && blob.size < file.size ? { blob: blob, name: "photo.jpg" } : original);
        }, "image/jpeg", 0.92);
      });
    }).catch(function () {
      return original; // a format this browser cannot draw: sent as taken, and the server says if it cannot read it
    });
  }

  function preview(form, bitmap) {
    var canvas = within(form, "[data-photo-preview]");
    if (!canvas) { return; }
    var side = Math.min(bitmap.width, bitmap.height);
    var context = canvas.getContext("2d");
    context.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0,
      canvas.width, canvas.height);
  }

  function photoChosen(input) {
    var form = input.form;
    var file = input.files && input.files[0];
    held = file ? { ready: prepare(file, form) } : null;
    var ready = within(form, "[data-photo-ready]");
    if (ready) { ready.hidden = !file; }
    var label = within(form, "[data-photo-label]");
    if (label) { label.textContent = file ? "Retake photo" : "Take photo"; }
    hideFailure(form);
    if (file) { announce("Photo ready."); }
  }

  // -- waiting, failing, retrying ----------------------------------------------------------------------------
  function busy(form, on, words) {
    var progress = within(form, "[data-progress]");
    var text = within(form, "[data-progress-text]");
    var button = within(form, "button[type=submit]");
    if (button) { button.disabled = on; }
    if (progress) { progress.hidden = !on; }
    if (!on) { window.clearInterval(form.tick); return; }
    var started = Date.now();
    var show = function () {
      var seconds = Math.round((Date.now() - started) / 1000);
      var slow = seconds >= 15 ? " The signal seems weak; still trying." : "";
      if (text) { text.textContent = words + " " + seconds + " s." + slow; }
    };
    show();
    window.clearInterval(form.tick);
    form.tick = window.setInterval(show, 1000);
    announce(words);
  }

  function hideFailure(form) {
    var failure = within(form, "[data-failure]");
    if (failure) { failure.hidden = true; }
  }

  function fail(form, words, canRetry) {
    var failure = within(form, "[data-failure]");
    var text = within(form, "[data-failure-text]");
    var retry = within(form, "[data-retry]");
    if (!failure) { window.alert(words); return; }
    text.textContent = words;
    retry.hidden = !canRetry;
    failure.hidden = false;
    announce(words);
    (canRetry ? retry : failure).focus(); // where a thumb or a screen reader goes next
  }

  // What the server said, in its own words: the refusal on the page, an error page's message, or JSON's detail.
  function serverWords(text, type) {
    if (type.indexOf("json") >= 0) {
      try { return JSON.parse(text).detail || ""; } catch (e) { return ""; }
    }
    if (type.indexOf("html") < 0) { return text.trim().slice(0, 300); }
    var doc = new DOMParser().parseFromString(text, "text/html");
    var said = doc.querySelector("[data-outcome-error], main [role=alert], main h1 + p");
    return said ? said.textContent.trim() : "";
  }

  function explain(status, words, retryAfter) {
    if (status === 503) {
      var wait = parseInt(retryAfter, 10) || 5;
      return { words: "The server is busy. Wait " + wait + " seconds, then press Retry. Your photo is still here.",
               retry: true };
    }
    if (status === 413) {
      return { words: "The photo is too large to send (" + (words || "over the limit") + "). Take it again.",
               retry: false };
    }
    if (status === 400 || status === 409 || status === 422 || status === 404) {
      return { words: "Not searched: " + (words || "the server refused the request") + ".", retry: false };
    }
    if (status === 401) {
      return { words: "Your sign-in has ended. Sign in again, then search again.", retry: false };
    }
    if (status === 403) {
      return { words: "Not permitted: " + (words || "your role may not do this") + ".", retry: false };
    }
    return { words: "The server could not answer (error " + status + "). Press Retry.", retry: true };
  }

  function send(job) {
    var form = job.form;
    var source = document.getElementById("oifr-form");
    var seconds = parseInt(source ? source.getAttribute("data-timeout-s") : "", 10) || 60;
    var controller = window.AbortController ? new AbortController() : null;
    var timedOut = false;
    var timer = window.setTimeout(function () {
      timedOut = true;
      if (controller) { controller.abort(); }
    }, seconds * 1000);
    pending = job;
    hideFailure(form);
    busy(form, true, job.kind === "search" ? "Sending the photo and searching\u2026" : "Recording your result\u2026");
    var options = { method: "POST", body: job.body, credentials: "same-origin",
                    headers: { "x-csrftoken": token(form) } };
    if (controller) { options.signal = controller.signal; }
    return window.fetch(job.url, options).then(function (response) {
      return response.text().then(function (text) { return { response: response, text: text }; });
    }).then(function (answer) {
      window.clearTimeout(timer);
      busy(form, false);
      if (timedOut) { throw new Error("timeout"); }
      var response = answer.response;
      var type = response.headers.get("content-type") || "";
      if (response.redirected && new URL(response.url).pathname === "/login") {
        return fail(form, explain(401).words, false);
      }
      if (!response.ok) {
        var said = explain(response.status, serverWords(answer.text, type), response.headers.get("retry-after"));
        return fail(form, said.words, said.retry);
      }
      if (!job.done(new DOMParser().parseFromString(answer.text, "text/html"))) {
        fail(form, "The answer did not arrive whole. Press Retry.", true);
      }
    }).catch(function () {
      window.clearTimeout(timer);
      busy(form, false);
      var words = timedOut
        ? "No answer after " + seconds + " seconds: the signal may be too weak. "
        : (navigator.onLine === false ? "No signal: " : "The connection failed: ");
      var what = job.kind === "search" ? "Your photo is still on this page (not stored)." : "Nothing was lost.";
      fail(form, words + "the request did not complete. " + what + " Move to better signal and press Retry.", true);
    });
  }

  // -- the search ----------------------------------------------------------------------------------------------
  function search(form) {
    var input = within(form, "input[type=file]");
    if (!held && input && input.files && input.files[0]) { photoChosen(input); }
    if (!held) { return fail(form, "Take a photo first.", false); }
    var fields = new FormData(form);
    held.ready.then(function (photo) {
      fields.set("image", photo.blob, photo.name);
      send({ form: form, url: form.action, body: fields, kind: "search", done: showResults });
    });
  }

  function showResults(doc) {
    var fresh = doc.querySelector("main");
    if (!fresh || !fresh.querySelector("#oifr-results")) { return false; }
    held = null; // the search has answered: the photo goes (the page shows its drawing only)
    pending = null;
    document.querySelector("main").innerHTML = fresh.innerHTML;
    var heading = document.getElementById("oifr-results-title");
    var wording = document.querySelector("[data-wording]");
    if (heading) {
      heading.focus();
      heading.scrollIntoView({ block: "start" });
      announce(heading.textContent + ". " + (wording ? wording.textContent : ""));
    }
    return true;
  }

  // -- the officer's result ------------------------------------------------------------------------------------
  function record(form) {
    var body = new URLSearchParams(new FormData(form));
    send({ form: form, url: form.action, body: body, kind: "result", done: function (doc) {
      var fresh = doc.getElementById("oifr-outcome");
      var here = document.getElementById("oifr-outcome");
      if (!fresh || !here) { return false; }
      pending = null;
      here.replaceWith(document.importNode(fresh, true));
      var now = document.getElementById("oifr-outcome");
      now.focus();
      var said = now.querySelector("[data-recorded], [data-outcome-error]");
      announce(said ? said.textContent : "");
      return true;
    } });
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "oifr-photo") { photoChosen(event.target); }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!window.fetch || !window.FormData || !window.DOMParser) { return; } // the plain POST
    if (form.id === "oifr-form") {
      event.preventDefault();
      search(form);
    } else if (form.hasAttribute("data-outcome")) {
      event.preventDefault();
      record(form);
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-retry]") : null;
    if (button && pending && pending.form.contains(button)) { send(pending); }
  });

  window.addEventListener("online", function () {
    var shown = document.querySelector("[data-failure]:not([hidden]) [data-retry]:not([hidden])");
    if (shown) { announce("Signal is back. Press Retry."); }
  });
})();
