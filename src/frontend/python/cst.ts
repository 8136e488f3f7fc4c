import type { Language, Node as RawNode, Tree as RawTree } from "web-tree-sitter";
import type { SourceRange } from "../../model/source.js";

interface Point {
  row: number;
  column: number;
}

/** Shared per parsed file: the source, its line starts (for positions), and per-language caches. */
class FileContext {
  private readonly lineStarts: number[] = [0];
  private nextId = 0;

  constructor(
    readonly source: string,
    readonly language: Language,
    readonly treeHasError: boolean,
    readonly namedById: Map<number, boolean>,
  ) {
    for (let i = source.indexOf("\n"); i >= 0; i = source.indexOf("\n", i + 1)) this.lineStarts.push(i + 1);
  }

  newId(): number {
    return this.nextId++;
  }

  point(index: number): Point {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return { row: lo, column: index - this.lineStarts[lo] };
  }

  isNamed(typeId: number): boolean {
    let named = this.namedById.get(typeId);
    if (named === undefined) {
      named = this.language.nodeTypeIsNamed(typeId);
      this.namedById.set(typeId, named);
    }
    return named;
  }
}

/**
 * A syntax node as a plain JS object with the subset of web-tree-sitter's `Node` API that bnlint uses.
 * web-tree-sitter marshals a node across the JS/wasm boundary on every property access; here each node is
 * read once (type, end, field: three calls), and children are read only when some code asks for them, so
 * code the analysis never visits (most of a utility module) costs nothing beyond the parse.
 */
export class PyNode {
  parent: PyNode | null;
  private kids?: PyNode[];
  private named?: PyNode[];
  private fields?: (string | null)[];
  private byField?: Map<string, PyNode | null>;
  private errorFlag?: boolean;
  readonly id: number;
  private cachedRange?: SourceRange;

  constructor(
    private readonly raw: RawNode,
    private readonly file: FileContext,
    parent: PyNode | null,
    readonly type: string,
    readonly isNamed: boolean,
    readonly startIndex: number,
    readonly endIndex: number,
    readonly indexInParent: number,
  ) {
    this.parent = parent;
    this.id = file.newId();
  }

  get startPosition(): Point {
    return this.file.point(this.startIndex);
  }

  get endPosition(): Point {
    return this.file.point(this.endIndex);
  }

  /** tree-sitter's id of the node (unique within a tree), to match nodes web-tree-sitter hands back. */
  get rawId(): number {
    return this.raw.id;
  }

  /** This node's source range (1-based lines and columns), computed once. */
  get range(): SourceRange {
    if (!this.cachedRange) {
      const s = this.startPosition;
      const e = this.endPosition;
      this.cachedRange = {
        start: { line: s.row + 1, column: s.column + 1 },
        end: { line: e.row + 1, column: e.column + 1 },
        startIndex: this.startIndex,
        endIndex: this.endIndex,
      };
    }
    return this.cachedRange;
  }

  static root(tree: RawTree, source: string, namedById: Map<number, boolean>): PyNode {
    const raw = tree.rootNode;
    const file = new FileContext(source, tree.language, raw.hasError, namedById);
    return new PyNode(raw, file, null, raw.type, true, raw.startIndex, raw.endIndex, 0);
  }

  get children(): PyNode[] {
    if (this.kids) return this.kids;
    const out: PyNode[] = [];
    const rawChildren = this.raw.children;
    for (let i = 0; i < rawChildren.length; i++) {
      const c = rawChildren[i];
      if (!c) continue;
      const typeId = c.typeId;
      const type = this.file.language.types[typeId] ?? (typeId === 65535 ? "ERROR" : c.type);
      out.push(new PyNode(c, this.file, this, type, type === "ERROR" || this.file.isNamed(typeId), c.startIndex, c.endIndex, out.length));
    }
    this.kids = out;
    return out;
  }

  get isMissing(): boolean {
    return this.file.treeHasError && this.raw.isMissing;
  }

  get hasError(): boolean {
    this.errorFlag ??= this.file.treeHasError && this.raw.hasError;
    return this.errorFlag;
  }

  get text(): string {
    return this.file.source.slice(this.startIndex, this.endIndex);
  }

  get namedChildren(): PyNode[] {
    // A `\` line continuation is a named node in tree-sitter-python's tree, but no part of the code's meaning
    // (`nn.Sequential(a, \` would otherwise get a child of its own).
    this.named ??= this.children.filter((c) => c.isNamed && c.type !== "line_continuation");
    return this.named;
  }

  get childCount(): number {
    return this.children.length;
  }

  get namedChildCount(): number {
    return this.namedChildren.length;
  }

  child(i: number): PyNode | null {
    return this.children[i] ?? null;
  }

  namedChild(i: number): PyNode | null {
    return this.namedChildren[i] ?? null;
  }

  get firstChild(): PyNode | null {
    return this.children[0] ?? null;
  }

  get lastChild(): PyNode | null {
    return this.children[this.children.length - 1] ?? null;
  }

  get firstNamedChild(): PyNode | null {
    return this.namedChildren[0] ?? null;
  }

  get lastNamedChild(): PyNode | null {
    const n = this.namedChildren;
    return n[n.length - 1] ?? null;
  }

  get nextSibling(): PyNode | null {
    return this.parent?.children[this.indexInParent + 1] ?? null;
  }

  get previousSibling(): PyNode | null {
    return this.parent?.children[this.indexInParent - 1] ?? null;
  }

  get nextNamedSibling(): PyNode | null {
    const siblings = this.parent?.children ?? [];
    for (let i = this.indexInParent + 1; i < siblings.length; i++) if (siblings[i].isNamed) return siblings[i];
    return null;
  }

  get previousNamedSibling(): PyNode | null {
    const siblings = this.parent?.children ?? [];
    for (let i = this.indexInParent - 1; i >= 0; i--) if (siblings[i].isNamed) return siblings[i];
    return null;
  }

  /** Field names of the children, read from wasm only for nodes whose fields are asked for. */
  private fieldNames(): (string | null)[] {
    if (!this.fields) {
      const kids = this.children;
      this.fields = kids.map((_, i) => this.raw.fieldNameForChild(i));
    }
    return this.fields;
  }

  /** The field this node fills in its parent (`left`, `body`), or null. */
  get fieldName(): string | null {
    return this.parent ? this.parent.fieldNames()[this.indexInParent] : null;
  }

  childForFieldName(name: string): PyNode | null {
    if (this.fields) {
      const names = this.fields;
      for (let i = 0; i < names.length; i++) if (names[i] === name) return this.children[i];
      return null;
    }
    // One wasm call for the asked field, rather than one per child to learn every child's field.
    const cached = this.byField?.get(name);
    if (cached !== undefined) return cached;
    const raw = this.raw.childForFieldName(name);
    let found: PyNode | null = null;
    if (raw) {
      const kids = this.children;
      for (let i = 0; i < kids.length; i++) {
        if (kids[i].startIndex === raw.startIndex && kids[i].rawId === raw.id) {
          found = kids[i];
          break;
        }
      }
    }
    (this.byField ??= new Map()).set(name, found);
    return found;
  }

  childrenForFieldName(name: string): PyNode[] {
    const names = this.fieldNames();
    return this.children.filter((_, i) => names[i] === name);
  }

  /** Every descendant (not this node) of the given type(s), in document order; iterative, so depth is no limit. */
  descendantsOfType(types: string | readonly string[]): PyNode[] {
    const wanted = typeof types === "string" ? [types] : types;
    const out: PyNode[] = [];
    const stack: PyNode[] = [...this.children].reverse();
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (wanted.includes(n.type)) out.push(n);
      const kids = n.children;
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
    }
    return out;
  }

  /**
   * Start and end offsets of every descendant of `type`, found by tree-sitter's own walk in wasm: nothing on the
   * way is materialised, so this costs little even over a whole file when the type is rare (comments).
   */
  offsetsOfType(type: string): [number, number][] {
    return this.raw.descendantsOfType(type).flatMap((n) => (n ? [[n.startIndex, n.endIndex] as [number, number]] : []));
  }

  /** The smallest descendant whose range contains `index` (reading only the children on the way down). */
  descendantForIndex(index: number): PyNode {
    let node: PyNode = this;
    for (;;) {
      const next = node.children.find((c) => c.startIndex <= index && index < c.endIndex);
      if (!next) return node;
      node = next;
    }
  }

  equals(other: PyNode): boolean {
    return this === other;
  }

  toString(): string {
    return this.isNamed ? `(${this.type}${this.namedChildren.map((c) => ` ${c.toString()}`).join("")})` : JSON.stringify(this.type);
  }
}
