// Says plainly when the balancer cannot be reached, and disappears when it is back.
export function ConnectionBanner({ unreachable }: { unreachable: boolean }) {
  if (!unreachable) return null;
  return (
    <div className="banner" role="alert">
      The load balancer is unreachable. Retrying… (the page recovers on its own when it is back)
    </div>
  );
}
