// jsdom lacks what React Flow measures with.
class ResizeObserverStub {
  observe() {}
  unobserve() {}
  disconnect() {}
}
globalThis.ResizeObserver ??= ResizeObserverStub as unknown as typeof ResizeObserver;
// biome-ignore lint/suspicious/noExplicitAny: test stub
(globalThis as any).DOMMatrixReadOnly ??= class {
  m22 = 1;
};
