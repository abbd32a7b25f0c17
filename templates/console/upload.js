// Progress for the console's file uploads. While the file travels, the bar shows how much of it
// has reached the server; then it shows that the server is reading it, until the answer comes
// and replaces the page, as the plain form post would have. Without this script (or without
// XMLHttpRequest) the forms post as usual. Served from this server only: the pages' CSP allows
// no other script and no inline one.
(function () {
  'use strict';
  var forms = document.querySelectorAll('form[data-progress]');
  Array.prototype.forEach.call(forms, function (form) {
    var bar = document.getElementById(form.getAttribute('data-progress'));
    var status = document.getElementById(form.getAttribute('data-progress') + '-status');
    var button = form.querySelector('button[type="submit"]');
    if (!bar || !status || !window.FormData || !window.XMLHttpRequest) {
      return;
    }
    form.setAttribute('data-progress-ready', 'true');
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.upload.addEventListener('progress', function (e) {
        if (e.lengthComputable && e.total > 0) {
          bar.max = e.total;
          bar.value = e.loaded;
          status.textContent = form.getAttribute('data-sending')
            .replace('{percent}', String(Math.floor((e.loaded * 100) / e.total)));
        }
      });
      xhr.upload.addEventListener('load', function () {
        // The whole file is there: how long the server takes is not known in advance.
        bar.removeAttribute('value');
        status.textContent = form.getAttribute('data-processing');
      });
      xhr.addEventListener('load', function () {
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener('error', function () {
        bar.hidden = true;
        button.disabled = false;
        status.textContent = form.getAttribute('data-failed');
      });
      bar.hidden = false;
      bar.value = 0;
      button.disabled = true;
      status.textContent = form.getAttribute('data-sending').replace('{percent}', '0');
      xhr.send(new FormData(form));
    });
  });
})();
