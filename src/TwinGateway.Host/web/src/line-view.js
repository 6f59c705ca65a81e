// Owned by its page's author; wires the page's live parts.
export function wireLinePages(root) {
  void root;
}
