// Chengxin pages: progressive enhancement only; every page works without it.
// Forms marked data-confirm ask before they are sent (no inline handlers:
// the pages' Content-Security-Policy forbids inline script).
document.addEventListener("submit", function (e) {
  var form = e.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    e.preventDefault();
  }
});
// Buttons marked data-print open the browser's print dialog.
document.addEventListener("click", function (e) {
  var t = e.target.closest("[data-print]");
  if (t) {
    e.preventDefault();
    window.print();
  }
});
// A file input marked data-fill="ID" loads the chosen text file into the
// textarea ID (the form still sends only the textarea).
document.addEventListener("change", function (e) {
  var input = e.target;
  var target = input.getAttribute && input.getAttribute("data-fill");
  if (!target || !input.files || !input.files[0]) {
    return;
  }
  input.files[0].text().then(function (text) {
    document.getElementById(target).value = text;
  });
});
