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
