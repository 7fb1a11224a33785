// CodeMirror 6: the console's and the embed's editor. Mod-s deploys, Mod-Enter runs;
// a deploy error's location becomes a diagnostic at its line and column.
import { EditorState, Compartment } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
         drawSelection } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput } from "@codemirror/language";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { javascript } from "@codemirror/lang-javascript";
import { python } from "@codemirror/lang-python";
import { rust } from "@codemirror/lang-rust";
import { cpp } from "@codemirror/lang-cpp";

export function languageSupport(language) {
  switch (language) {
    case "python": return python();
    case "rust": return rust();
    case "c": case "zig": return cpp();  // zig has no CodeMirror 6 package; C's mode is the closest
    case "assemblyscript": return javascript({ typescript: true });
    case "wat": case "wasm": return [];
    default: return javascript();
  }
}

// The page's CSP nonce for CodeMirror's <style> element (the console's pages carry one in a meta tag).
function styleNonce() {
  const meta = document.querySelector('meta[name="wasmtask-style-nonce"]');
  return meta ? meta.content : null;
}

export function createEditor(parent, { doc = "", language = "javascript", onSave, onRun, label = "code", cspNonce }) {
  const nonce = cspNonce || styleNonce();
  const mode = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), history(), drawSelection(), indentOnInput(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }), bracketMatching(), closeBrackets(),
        highlightActiveLine(), highlightSelectionMatches(), lintGutter(),
        keymap.of([
          { key: "Mod-s", preventDefault: true, run: () => { onSave && onSave(); return true; } },
          { key: "Mod-Enter", preventDefault: true, run: () => { onRun && onRun(); return true; } },
          ...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, indentWithTab,
        ]),
        mode.of(languageSupport(language)),
        EditorView.contentAttributes.of({ "aria-label": label }),
        nonce ? EditorView.cspNonce.of(nonce) : [],
      ],
    }),
  });
  return {
    view,
    get doc() { return view.state.doc.toString(); },
    set(text, lang) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text },
                      effects: lang ? mode.reconfigure(languageSupport(lang)) : [] });
      view.dispatch(setDiagnostics(view.state, []));
    },
    clearError() { view.dispatch(setDiagnostics(view.state, [])); },
    // location: {line, column} (1-based) from the API's error; message shown at that line.
    showError(location, message) {
      const doc = view.state.doc;
      if (!location || !location.line) { view.dispatch(setDiagnostics(view.state, [])); return; }
      const line = doc.line(Math.min(Math.max(1, location.line), doc.lines));
      const from = Math.min(line.to, line.from + Math.max(0, (location.column || 1) - 1));
      view.dispatch(setDiagnostics(view.state, [{ from, to: Math.max(from, Math.min(line.to, from + 1)),
                                                  severity: "error", message }]));
      view.dispatch({ selection: { anchor: from }, scrollIntoView: true });
    },
    focus() { view.focus(); },
  };
}
