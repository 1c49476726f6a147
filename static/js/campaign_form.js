// The message's live counter: characters used and roughly how long the voice takes.
// Mirrors campaigns.personalisation.estimate_speech_seconds (150 words a minute).
// Without this file the server's first estimate stays; the form works the same.
(function () {
  "use strict";

  var WORDS_PER_MINUTE = 150;

  function speechSeconds(text) {
    var words = text.split(/\s+/).filter(Boolean).length;
    if (words === 0) return 0;
    return Math.max(1, Math.ceil((words * 60) / WORDS_PER_MINUTE));
  }

  function update(field, meter) {
    var text = field.value;
    meter.textContent = field
      .getAttribute("data-meter-template")
      .replace("{chars}", String(Array.from(text).length))
      .replace("{max}", field.getAttribute("data-max"))
      .replace("{seconds}", String(speechSeconds(text)));
  }

  document.querySelectorAll("textarea[data-meter]").forEach(function (field) {
    var meter = document.getElementById(field.getAttribute("data-meter"));
    if (!meter) return;
    field.addEventListener("input", function () { update(field, meter); });
    update(field, meter);
  });
})();
