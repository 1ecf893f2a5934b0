import { afterEach, describe, expect, it, vi } from 'vitest';
import { POPUP_GRACE_MS, PopupCloser } from '../../src/render/popup-closer';

/** A target as CDP reports it; `openerId` null: a page nothing opened (a tab of the renderer). */
const popup = (targetId: string, openerId: string | null = 'opener', type = 'page') => ({
  targetInfo: { targetId, type, openerId: openerId ?? undefined },
});

/** A closer whose closes are recorded in order. */
function setUp() {
  const closed: string[] = [];
  const closer = new PopupCloser((id) => closed.push(id));
  return { closer, closed };
}

describe('PopupCloser (popups are closed once puppeteer has attached to them)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not close a popup CDP reports until puppeteer announces it, then at once', () => {
    vi.useFakeTimers();
    const { closer, closed } = setUp();
    closer.created(popup('p1'));
    vi.advanceTimersByTime(POPUP_GRACE_MS - 1);
    expect(closed).toEqual([]);
    closer.announced('p1');
    expect(closed).toEqual(['p1']);
    // Closed once: neither its grace timer nor a second announcement closes it again.
    vi.advanceTimersByTime(POPUP_GRACE_MS);
    closer.announced('p1');
    expect([closed, closer.waiting]).toEqual([['p1'], 0]);
  });

  it('closes a popup puppeteer never announces when its grace ends', () => {
    vi.useFakeTimers();
    const { closer, closed } = setUp();
    closer.created(popup('p1'));
    vi.advanceTimersByTime(500);
    closer.created(popup('p2'));
    vi.advanceTimersByTime(POPUP_GRACE_MS - 500);
    expect(closed).toEqual(['p1']);
    vi.advanceTimersByTime(500);
    expect([closed, closer.waiting]).toEqual([['p1', 'p2'], 0]);
  });

  it('leaves alone the tabs the renderer opened, and targets that are not pages', () => {
    vi.useFakeTimers();
    const { closer, closed } = setUp();
    closer.created(popup('tab', null));
    closer.created(popup('worker', 'opener', 'service_worker'));
    closer.announced('tab');
    closer.announced('worker');
    vi.advanceTimersByTime(2 * POPUP_GRACE_MS);
    expect([closed, closer.waiting]).toEqual([[], 0]);
  });

  it('forgets a popup that went away by itself: nothing is closed for it later', () => {
    vi.useFakeTimers();
    const { closer, closed } = setUp();
    closer.created(popup('p1'));
    closer.created(popup('p2'));
    closer.destroyed('p1');
    expect(closer.waiting).toBe(1);
    closer.announced('p1');
    vi.advanceTimersByTime(POPUP_GRACE_MS);
    expect([closed, closer.waiting]).toEqual([['p2'], 0]);
  });
});
