// The segment builder in admin: rows of (field, operator, value) joined by AND
// or OR, kept in step with the "Conditions (JSON)" textarea that the server
// reads; "Preview" asks the admin's JSON endpoint for the count and a sample.
// Without JavaScript the textarea and the Preview submit button still work.
// Nested groups are edited in the textarea; the rows handle one level.
(function () {
  "use strict";

  function init() {
    var schemaNode = document.getElementById("segment-schema");
    var textarea = document.getElementById("id_definition");
    var builder = document.getElementById("segment-builder");
    var previewBox = document.getElementById("segment-preview-box");
    var previewButton = document.getElementById("segment-preview-button");
    if (!schemaNode) return;
    var schema = JSON.parse(schemaNode.textContent);
    var byName = {};
    schema.forEach(function (kind) { byName[kind.name] = kind; });

    if (previewButton && textarea && previewBox) {
      previewButton.addEventListener("click", function (event) {
        event.preventDefault();
        preview(previewBox.dataset.previewUrl, textarea.value);
      });
    }
    setupKindSwitch();
    if (!builder || !textarea) return;

    var rowsNode = document.getElementById("segment-rows");
    var joinSelect = document.getElementById("segment-join");
    var nestedNote = document.getElementById("segment-nested-note");
    var addButton = document.getElementById("segment-add-row");
    var counter = 0;

    var labels = builder.dataset;
    builder.hidden = false;
    joinSelect.addEventListener("change", sync);
    addButton.addEventListener("click", function () { addRow(null); });
    // Typing JSON by hand (e.g. a nested group) takes over from the rows.
    textarea.addEventListener("change", function () { rebuild(parse(textarea.value)); });
    rebuild(parse(textarea.value));

    function rebuild(definition) {
      var asJson = definition === null || hasNested(definition);
      nestedNote.hidden = !asJson;
      rowsNode.hidden = asJson;
      addButton.hidden = asJson;
      joinSelect.disabled = asJson;
      rowsNode.textContent = "";
      if (asJson) return;
      joinSelect.value = definition.op === "or" ? "or" : "and";
      (definition.conditions || []).forEach(function (cond) { addRow(cond, true); });
      if (!rowsNode.children.length) addRow(null, true);
    }

    function parse(text) {
      if (!text || !text.trim()) return { op: "and", conditions: [] };
      try {
        var value = JSON.parse(text);
        return value && typeof value === "object" && !Array.isArray(value) ? value : null;
      } catch (e) {
        return null;
      }
    }

    function hasNested(definition) {
      return (definition.conditions || []).some(function (c) {
        return c && typeof c === "object" && "conditions" in c;
      });
    }

    function el(tag, attrs, text) {
      var node = document.createElement(tag);
      Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
      if (text !== undefined) node.textContent = text;
      return node;
    }

    function option(value, label, selected) {
      var node = el("option", { value: String(value) }, label);
      if (selected) node.selected = true;
      return node;
    }

    function addRow(cond, quiet) {
      var n = counter++;
      var row = el("div", { "class": "form-row segment-row", "data-row": String(n) });
      var field = el("select", { id: "segment-row-" + n + "-field", "aria-label": labels.labelField });
      field.appendChild(option("", labels.labelChoose));
      schema.forEach(function (kind) {
        field.appendChild(option(kind.name, kind.label, cond && cond.field === kind.name));
      });
      var op = el("select", { id: "segment-row-" + n + "-op", "aria-label": labels.labelOp });
      var valueBox = el("span", { "class": "segment-value" });
      var remove = el("button", { type: "button", "class": "button", id: "segment-row-" + n + "-remove" }, "×");
      remove.setAttribute("aria-label", labels.labelRemove);
      row.appendChild(field);
      row.appendChild(document.createTextNode(" "));
      row.appendChild(op);
      row.appendChild(document.createTextNode(" "));
      row.appendChild(valueBox);
      row.appendChild(document.createTextNode(" "));
      row.appendChild(remove);
      rowsNode.appendChild(row);

      function fillOps(selected) {
        op.textContent = "";
        var kind = byName[field.value];
        (kind ? kind.ops : []).forEach(function (o) {
          op.appendChild(option(o.name, o.label, o.name === selected));
        });
        op.disabled = !kind;
      }

      function fillValue(current) {
        valueBox.textContent = "";
        var kind = byName[field.value];
        if (!kind) return;
        var o = kind.ops.filter(function (x) { return x.name === op.value; })[0];
        var id = "segment-row-" + n + "-value";
        var value = current ? current.value : undefined;
        var input = null;
        if (!o || o.value === "none") {
          // no value
        } else if (o.value === "choice" || o.value === "choices") {
          input = el("select", { id: id, "aria-label": labels.labelValue });
          if (o.value === "choices") {
            input.multiple = true;
            input.title = labels.labelMulti;
            input.size = Math.min(6, Math.max(2, kind.choices.length));
          }
          var chosen = (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(String);
          kind.choices.forEach(function (c) {
            input.appendChild(option(c.value, c.label, chosen.indexOf(String(c.value)) >= 0));
          });
        } else if (o.value === "dates") {
          var pair = Array.isArray(value) ? value : ["", ""];
          input = el("input", { type: "date", id: id, "aria-label": labels.labelFrom, value: pair[0] || "" });
          var second = el("input", { type: "date", id: id + "2", "aria-label": labels.labelTo, value: pair[1] || "" });
          valueBox.appendChild(input);
          valueBox.appendChild(document.createTextNode(" – "));
          valueBox.appendChild(second);
          input = null;
        } else {
          var type = { "int": "number", "decimal": "number", "date": "date" }[o.value] || "text";
          input = el("input", { type: type, id: id, "aria-label": labels.labelValue });
          if (o.value === "int") { input.min = "0"; input.step = "1"; }
          if (o.value === "decimal") { input.min = "0"; input.step = "0.01"; }
          if (o.value === "texts") input.placeholder = "a, b, c";
          if (value !== undefined) input.value = Array.isArray(value) ? value.join(", ") : String(value);
        }
        if (input) valueBox.appendChild(input);
        kind.extras.forEach(function (extra) {
          var box = el("label", { "for": "segment-row-" + n + "-" + extra.key }, " " + extra.label + " ");
          var x = el("input", {
            type: extra.kind === "date" ? "date" : "number",
            id: "segment-row-" + n + "-" + extra.key,
            "data-extra": extra.key,
          });
          if (extra.kind !== "date") x.min = "0";
          if (current && current[extra.key] !== undefined) x.value = String(current[extra.key]);
          valueBox.appendChild(box);
          valueBox.appendChild(x);
        });
      }

      function read() {
        var kind = byName[field.value];
        if (!kind || !op.value) return null;
        var o = kind.ops.filter(function (x) { return x.name === op.value; })[0];
        var cond = { field: kind.name, op: o.name };
        var input = document.getElementById("segment-row-" + n + "-value");
        if (o.value === "choices") {
          cond.value = Array.prototype.filter.call(input.options, function (opt) { return opt.selected; })
            .map(function (opt) { return typed(kind, opt.value); });
        } else if (o.value === "choice") {
          cond.value = typed(kind, input.value);
        } else if (o.value === "dates") {
          cond.value = [input.value, document.getElementById("segment-row-" + n + "-value2").value];
        } else if (o.value === "int") {
          cond.value = input.value === "" ? "" : Number(input.value);
        } else if (o.value !== "none") {
          cond.value = input.value;
        }
        valueBox.querySelectorAll("[data-extra]").forEach(function (x) {
          if (x.value !== "") cond[x.dataset.extra] = x.type === "number" ? Number(x.value) : x.value;
        });
        return cond;
      }
      row.readCondition = read;

      fillOps(cond ? cond.op : null);
      fillValue(cond);
      field.addEventListener("change", function () { fillOps(null); fillValue(null); sync(); });
      op.addEventListener("change", function () { fillValue(null); sync(); });
      valueBox.addEventListener("input", sync);
      valueBox.addEventListener("change", sync);
      remove.addEventListener("click", function () {
        row.remove();
        if (!rowsNode.children.length) addRow(null);
        sync();
      });
      if (!quiet) sync();
    }

    function typed(kind, value) {
      var sample = kind.choices.length ? kind.choices[0].value : "";
      return typeof sample === "number" && value !== "" ? Number(value) : value;
    }

    function sync() {
      var conditions = [];
      Array.prototype.forEach.call(rowsNode.children, function (row) {
        var cond = row.readCondition ? row.readCondition() : null;
        if (cond) conditions.push(cond);
      });
      textarea.value = JSON.stringify({ op: joinSelect.value, conditions: conditions });
    }
  }

  function setupKindSwitch() {
    var radios = document.querySelectorAll("input[name=kind]");
    if (!radios.length) return;
    var builder = document.getElementById("segment-builder");
    var definition = document.getElementById("id_definition");
    var file = document.getElementById("id_file");
    var previewBox = document.getElementById("segment-preview-box");
    function apply() {
      var checked = document.querySelector("input[name=kind]:checked");
      var isStatic = checked && checked.value === "static";
      if (builder) builder.hidden = isStatic;
      if (previewBox) previewBox.hidden = isStatic;
      if (definition) definition.closest("fieldset").hidden = isStatic;
      if (file) file.closest("fieldset").hidden = !isStatic;
    }
    radios.forEach(function (radio) { radio.addEventListener("change", apply); });
    apply();
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function preview(url, definition) {
    var out = document.getElementById("segment-preview");
    out.setAttribute("aria-busy", "true");
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ definition: definition }),
    })
      .then(function (response) { return response.json(); })
      .then(function (data) { render(out, data); })
      .catch(function () { render(out, { ok: false, error: out.dataset.failed }); })
      .finally(function () { out.removeAttribute("aria-busy"); });
  }

  function render(out, data) {
    out.textContent = "";
    if (!data.ok) {
      var error = document.createElement("p");
      error.className = "errornote";
      error.id = "segment-preview-error";
      error.textContent = data.error;
      out.appendChild(error);
      return;
    }
    var count = document.createElement("p");
    count.id = "segment-preview-count";
    var strong = document.createElement("strong");
    strong.textContent = data.count_text;
    count.appendChild(strong);
    out.appendChild(count);
    if (!data.sample.length) return;
    var table = document.createElement("table");
    table.id = "segment-preview-sample";
    var head = document.getElementById("segment-preview-head");
    if (head) table.appendChild(head.content.cloneNode(true));
    var body = document.createElement("tbody");
    data.sample.forEach(function (row) {
      var tr = document.createElement("tr");
      [row.name, row.phone, row.card, row.tier, String(row.balance)].forEach(function (text, i) {
        var td = document.createElement("td");
        if (i === 0 && row.url) {
          var a = document.createElement("a");
          a.href = row.url;
          a.textContent = text;
          td.appendChild(a);
        } else {
          td.textContent = text;
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    table.appendChild(body);
    out.appendChild(table);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
