/**
 * GitHub's delivery GUID of a stored delivery (its key is the hook id and
 * the GUID, `<hook id>:<guid>`, both of a form without `:` or `%`), kept
 * so that a delivery is found by its GUID whichever hook delivered it;
 * undefined for another source.
 */
export function githubDeliveryGuid(delivery: { source: string; deliveryKey: string }): string | undefined {
  if (delivery.source !== "github") {
    return undefined;
  }
  const match = /^\d{1,20}:([A-Za-z0-9-]{1,64})$/.exec(delivery.deliveryKey);
  return match === null ? undefined : match[1];
}
