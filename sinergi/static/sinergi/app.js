/* Sinergi's few page behaviours, in a file instead of inline handlers so the
   Content-Security-Policy can refuse every inline script. Listeners sit on the
   document, so markup that htmx swaps in later works the same way. */
(function () {
  "use strict";

  // The menu button on narrow screens: <button data-toggle-nav aria-controls="nav">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-toggle-nav]");
    if (!button) return;
    var nav = document.getElementById(button.getAttribute("aria-controls"));
    if (!nav) return;
    var open = nav.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // A choice that applies at once (the language): <select data-submit-on-change>.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("[data-submit-on-change]");
    if (select && select.form) select.form.submit();
  });

  // A removal that asks first: <form data-confirm="Remove this entry?">.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
  });

  // One way for every htmx request to show what went wrong, where the answer
  // would have gone. htmx does not swap a 4xx or 5xx answer by default, so the
  // old results stayed on screen as if they were the answer. A fragment (a
  // 400 that says which value is wrong, a 503 "too heavy") is swapped in as
  // it is; a whole error page (403, 404, 500) gives its message, as an alert.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || xhr.status < 400) return;
    // A part that asks again every few seconds (a job's progress) keeps
    // asking through a passing server error instead of showing "failed".
    if (xhr.status >= 500 && polling(event.detail.elt)) return;
    var html = xhr.responseText || "";
    event.detail.shouldSwap = true;
    event.detail.isError = false;
    if (html.trim() && !/<html[\s>]/i.test(html)) return;
    var message = null;
    if (html.trim()) {
      var page = new DOMParser().parseFromString(html, "text/html");
      var found = page.querySelector("main .error") || page.querySelector("main p");
      if (found) message = found.textContent.trim();
    }
    event.detail.serverResponse = alertHtml(message || failedText(xhr.status));
  });

  // No answer at all (the connection dropped, the server is down).
  ["htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      if (polling(event.detail.elt)) return;  // it asks again at its next turn
      var target = event.detail.target || event.target;
      if (target) target.innerHTML = alertHtml(failedText(0));
    });
  });

  // One region picker for every region input (<input data-region-picker>):
  // type part of a name and choose among the regions of your scope (the
  // browser's own suggestion list); the code goes into the field, and the
  // chosen region's name shows beside it. A typed code still works as before.
  var regionTimer = null;
  document.addEventListener("input", function (event) {
    var input = event.target.closest("input[data-region-picker]");
    if (!input) return;
    var list = regionList(input);
    var text = input.value.trim();
    window.clearTimeout(regionTimer);
    if (text.length < 2 || /^[0-9.]+$/.test(text)) {
      showRegionName(input, list);
      return;
    }
    regionTimer = window.setTimeout(function () {
      // data-region-picker="subtree": only the user's own subtree (pages that
      // count people); otherwise the regions above it too, by name.
      var url = "/api/v1/regions?limit=15&q=" + encodeURIComponent(text)
        + (input.getAttribute("data-region-picker") === "subtree" ? "&subtree=true" : "");
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : {items: []}; })
        .then(function (body) {
          list.innerHTML = "";
          body.items.forEach(function (region) {
            var option = document.createElement("option");
            option.value = region.code;
            option.label = region.name + " (" + region.kind + ") · " + region.code;
            option.textContent = option.label;
            list.appendChild(option);
          });
        })
        .catch(function () { /* no suggestions; typing the code still works */ });
    }, 250);
  });
  document.addEventListener("change", function (event) {
    var input = event.target.closest("input[data-region-picker]");
    if (input) showRegionName(input, regionList(input));
  });

  function regionList(input) {
    var id = input.getAttribute("list");
    var list = id && document.getElementById(id);
    if (!list) {
      list = document.createElement("datalist");
      list.id = (input.id || input.name) + "-regions";
      input.setAttribute("list", list.id);
      input.setAttribute("autocomplete", "off");
      input.insertAdjacentElement("afterend", list);
    }
    return list;
  }

  function showRegionName(input, list) {
    var chosen = Array.prototype.find.call(list.options, function (option) {
      return option.value === input.value.trim();
    });
    var note = input.parentNode.querySelector(".region-name");
    if (!note) {
      note = document.createElement("span");
      note.className = "region-name muted";
      note.setAttribute("aria-live", "polite");
      list.insertAdjacentElement("afterend", note);
    }
    note.textContent = chosen ? chosen.label.split(" · ")[0] : "";
  }

  // Sortable lists (<table data-sortable>): a click on a column heading
  // sorts the rows shown by that column, again to reverse; numbers sort as
  // numbers (12.345 as written in Indonesian too), the rest by the language's
  // collation. aria-sort tells screen readers the order.
  document.addEventListener("click", function (event) {
    var th = event.target.closest("table[data-sortable] thead th");
    if (!th) return;
    var table = th.closest("table");
    var body = table.tBodies[0];
    if (!body) return;
    var column = Array.prototype.indexOf.call(th.parentNode.children, th);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(th.parentNode.children, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.filter.call(body.rows, function (row) {
      // A region's own row above its children, and "none" rows, stay put.
      return row.cells.length > column && !row.querySelector("td[colspan]")
        && !row.hasAttribute("data-fixed");
    });
    var collator = new Intl.Collator(document.documentElement.lang || undefined,
                                     {numeric: true, sensitivity: "base"});
    rows.sort(function (a, b) {
      var x = sortKey(a.cells[column]), y = sortKey(b.cells[column]);
      var order = (typeof x === "number" && typeof y === "number") ? x - y
        : collator.compare(String(x), String(y));
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });

  function sortKey(cell) {
    var text = (cell.getAttribute("data-sort") || cell.textContent).trim();
    var plain = text.replace(/^Rp\s*/, "").replace(/\s*%$/, "");
    if (/^-?[0-9]{1,3}([.,][0-9]{3})+$/.test(plain)) return Number(plain.replace(/[.,]/g, ""));
    if (/^-?[0-9]+$/.test(plain)) return Number(plain);
    return text;
  }

  function polling(elt) {
    return !!(elt && /\bevery\b/.test(elt.getAttribute("hx-trigger") || ""));
  }

  function failedText(status) {
    var text = document.body.getAttribute("data-request-failed") || "The request failed.";
    return status ? text + " (HTTP " + status + ")" : text;
  }

  function alertHtml(text) {
    var p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    return p.outerHTML;
  }
})();
