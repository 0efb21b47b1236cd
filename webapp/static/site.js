// Region pickers follow their country picker. Without JavaScript the form still works: the server
// re-renders the regions of the chosen country.
document.addEventListener("change", function (event) {
  var country = event.target;
  if (!country.matches || !country.matches("select[data-regions-for]")) return;
  var region = document.getElementById(country.getAttribute("data-regions-for"));
  if (!region) return;
  fetch(country.getAttribute("data-regions-url") + "?country=" + encodeURIComponent(country.value))
    .then(function (r) { return r.ok ? r.text() : ""; })
    .then(function (html) { if (html) region.innerHTML = html; });
});

// The pledge form: as the backer types, the equivalent of the amount in the other currency the form offers (the
// campaign's, or the backer's own). Without JavaScript the page shows it once the form is sent back.
(function () {
  var out = document.getElementById("amount-equivalent");
  var amount = document.getElementById("amount");
  var typedIn = document.getElementById("amount_currency");
  if (!out || !amount || !typedIn || !out.dataset.rate || !window.Intl) return;
  var rate = parseFloat(out.dataset.rate), locale = out.dataset.locale;
  var decimal = (1.5).toLocaleString(locale).charAt(1);
  function update() {
    var text = amount.value.replace(/[\s\u00a0\u202f']/g, "");
    text = decimal === "," ? text.replace(/\./g, "").replace(",", ".") : text.replace(/,/g, "");
    var value = parseFloat(text);
    if (!isFinite(value) || value <= 0) { out.textContent = ""; return; }
    var fromOwn = typedIn.value === out.dataset.own;
    var target = fromOwn ? out.dataset.campaign : out.dataset.own;
    var figure = new Intl.NumberFormat(locale, {style: "currency", currency: target})
      .format(fromOwn ? value / rate : value * rate);
    out.textContent = "\u2248 " + figure + " (" + out.dataset.note + ")";
  }
  amount.addEventListener("input", update);
  typedIn.addEventListener("change", update);
})();
