// What the pages once did in inline handlers. The Content-Security-Policy (portal/web.py) allows
// scripts from this site's files only, so the behaviour is attached here by data attributes.

// <form data-confirm="…">: ask before submitting. Capturing on the document runs before htmx's own
// listener on the form, so a cancelled confirmation sends nothing either way.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// <select data-autosubmit>: choosing an option submits its form (switching the active role).
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) {
    event.target.form.submit();
  }
});

// The organisation tree: an open branch folds on the next click instead of being fetched again;
// the sign follows the request's outcome, so a failed load never shows an empty branch as open.
document.addEventListener("htmx:beforeRequest", (event) => {
  const button = event.detail.elt;
  if (button.matches("button.toggle") && button.getAttribute("aria-expanded") === "true") {
    event.preventDefault();
    button.parentElement.querySelector(":scope > ul").replaceChildren();
    button.setAttribute("aria-expanded", "false");
    button.textContent = "＋";
  }
});
document.addEventListener("htmx:afterRequest", (event) => {
  const button = event.detail.elt;
  if (button.matches("button.toggle") && event.detail.successful) {
    button.setAttribute("aria-expanded", "true");
    button.textContent = "－";
  }
});

// A page that answers a form sent by POST with its messages shows the address of the page the form
// was on (portal/web.py page_url): reloading it, or coming back to it, never asks again for the
// action URL, which answers only POST.
const pageUrl = document.querySelector('meta[name="page-url"]');
if (pageUrl) {
  history.replaceState(history.state, "", pageUrl.content);
}

// A part of the page swapped in (an item saved, a row changed) carries its own message: the banners
// left from before are cleared, so only what is true now is said.
document.addEventListener("htmx:afterSwap", (event) => {
  if (!event.detail.target.querySelector('.flash[role="status"]')) return;  // a panel refreshing: nothing new said
  document.querySelectorAll('.flash[role="status"]').forEach((banner) => {
    if (!event.detail.target.contains(banner)) banner.remove();
  });
});
