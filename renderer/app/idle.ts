/** Calls `onIdle` after `minutes` without keyboard, pointer or wheel activity. */
import { useEffect, useRef } from 'react';

const EVENTS = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'] as const;

export function useIdle(minutes: number, active: boolean, onIdle: () => void): void {
  const last = useRef(Date.now());
  const fire = useRef(onIdle);
  fire.current = onIdle;
  useEffect(() => {
    if (!active || !(minutes > 0)) return;
    last.current = Date.now();
    const seen = () => (last.current = Date.now());
    for (const e of EVENTS) window.addEventListener(e, seen, { passive: true, capture: true });
    const timer = window.setInterval(() => {
      if (Date.now() - last.current >= minutes * 60_000) fire.current();
    }, Math.min(5_000, minutes * 60_000));
    return () => {
      for (const e of EVENTS) window.removeEventListener(e, seen, { capture: true });
      window.clearInterval(timer);
    };
  }, [minutes, active]);
}
