// Owned by its page's author; wires the page's live parts.
export function wireChanges(root) {
  void root;
}
