// Jest setup provided by Grafana scaffolding
import './.config/jest-setup';

// jsdom lacks the observers that @grafana/ui's Select menu and layout components use. These
// stand-ins never report an intersection or a resize, which is what a jsdom layout would say.
class NoopObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}
if (typeof global.IntersectionObserver === 'undefined') {
  global.IntersectionObserver = NoopObserver;
}
if (typeof global.ResizeObserver === 'undefined') {
  global.ResizeObserver = NoopObserver;
}
