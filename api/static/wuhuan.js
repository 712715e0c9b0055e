/* Progressive enhancement only: every form works without this file. It counts characters as you type, prints
   the receipt, and refuses a file that is too large or of the wrong type before it is uploaded. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("DOMContentLoaded", function () {
    // Character counters: <span data-count-for="ID">.
    document.querySelectorAll("[data-count-for]").forEach(function (counter) {
      var field = document.getElementById(counter.getAttribute("data-count-for"));
      if (!field) return;
      var update = function () { counter.textContent = String(Array.from(field.value).length); };
      field.addEventListener("input", update);
      update();
    });

    // Print button on the receipt.
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });

    // Uploads: size and type checked before sending (the server checks again, by content).
    var okType = function (file) {
      return /^image\//.test(file.type) || file.type === "application/pdf" || /\.(jpe?g|png|webp|pdf)$/i.test(file.name);
    };
    document.querySelectorAll("form[data-upload]").forEach(function (form) {
      var input = form.querySelector("input[type=file]");
      var message = form.querySelector(".js-file-error");
      if (!input || !message) return;
      var check = function () {
        var file = input.files && input.files[0];
        var max = parseInt(input.getAttribute("data-max-bytes"), 10);
        var text = "";
        if (!file) text = "请先拍照或选择一个文件";
        else if (!okType(file)) text = "只能上传照片（JPG、PNG、WebP）或 PDF 文件";
        else if (max && file.size > max) text = "文件太大（" + (file.size / 1048576).toFixed(1) + " MB），请不要超过 " + (max >= 1048576 ? (max / 1048576) + " MB" : Math.floor(max / 1024) + " KB");
        message.textContent = text;
        message.hidden = !text;
        return !text;
      };
      input.addEventListener("change", check);
      form.addEventListener("submit", function (event) { if (!check()) event.preventDefault(); });
    });
  });
})();
