import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { Category, CATEGORY_NAMES, CustomerClass, isUuid, RequestStatus, type Category as CategoryT } from '@griddispatch/contracts';
import { hasScope, HttpError, requireScope, requireSource, toErrorResponse, type FieldIssue } from '@griddispatch/http';
import type { IntakeContext } from '../context.ts';
import { IntakeRequestBody } from '../domain/request-body.ts';
import type { RequestRow } from '../schema.ts';
import { createRequest } from '../use-cases/create-request.ts';
import { listRequestRows } from '../use-cases/list-requests.ts';
import { gridFilter, visibleGrids } from '../use-cases/visible-grids.ts';
import { toSummary } from '../use-cases/view-request.ts';

// Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2/), JSON format, so civic platforms
// that already speak it need no custom code. Its error format is part of that protocol
// (`[{code, description}]`), so this plugin answers errors in it; statuses stay ours.

const SERVICES: Record<CategoryT, { name: string; description: string; group: string; keywords: string }> = {
  fault_repair: {
    name: CATEGORY_NAMES.fault_repair,
    description: 'Power outage or faulty equipment (停电、线路、表计故障)',
    group: '抢修',
    keywords: '停电,故障,抢修',
  },
  new_connection: {
    name: CATEGORY_NAMES.new_connection,
    description: 'New connection or capacity increase (新装、增容)',
    group: '业务办理',
    keywords: '报装,增容',
  },
  billing: { name: CATEGORY_NAMES.billing, description: 'Bills, payments and tariffs (电费、电价)', group: '业务办理', keywords: '电费,缴费' },
  consultation: { name: CATEGORY_NAMES.consultation, description: 'Questions about power supply service', group: '咨询', keywords: '咨询' },
  complaint: { name: CATEGORY_NAMES.complaint, description: 'Complaint about the supply service', group: '投诉举报', keywords: '投诉' },
  report: { name: CATEGORY_NAMES.report, description: 'Report power theft or safety hazards (窃电、安全隐患)', group: '投诉举报', keywords: '举报,窃电,隐患' },
  service_request: {
    name: CATEGORY_NAMES.service_request,
    description: 'Service request, including micro-wishes (微心愿)',
    group: '服务',
    keywords: '服务,微心愿',
  },
};

const STATUS_NOTES: Record<RequestStatus, string> = {
  received: '已受理，正在派单',
  assigned: '已派单至网格',
  unroutable: '已转供电服务指挥中心人工派单',
  acknowledged: '网格经理已接单',
  en_route: '抢修人员已出发',
  arrived: '抢修人员已到达现场',
  resolved: '已处理完毕，待回访',
  closed: '已回访归档',
  suspended: '工单已挂起',
  cancelled: '工单已撤销',
};

const CLOSED: readonly RequestStatus[] = ['resolved', 'closed', 'cancelled'];
const OPEN = RequestStatus.options.filter((s) => !CLOSED.includes(s));

const Service = z.object({
  service_code: z.string(),
  service_name: z.string(),
  description: z.string(),
  metadata: z.boolean(),
  type: z.literal('realtime'),
  keywords: z.string(),
  group: z.string(),
});

const ServiceRequest = z.object({
  service_request_id: z.string(),
  status: z.enum(['open', 'closed']),
  status_notes: z.string(),
  service_name: z.string(),
  service_code: z.string(),
  description: z.string().nullable(),
  agency_responsible: z.string().nullable(),
  service_notice: z.string().nullable(),
  requested_datetime: z.string(),
  updated_datetime: z.string(),
  expected_datetime: z.string().nullable(),
  address: z.string().nullable(),
  address_id: z.string().nullable(),
  zipcode: z.string().nullable(),
  lat: z.number().nullable(),
  long: z.number().nullable(),
  media_url: z.string().nullable(),
});

const numeric = z.union([
  z.number(),
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/, 'expected a decimal number')
    .transform(Number),
]);
const text = (max: number) => z.string().max(max);

const PostForm = z
  .object({
    api_key: z.string().optional(),
    jurisdiction_id: text(64).optional(),
    service_code: Category,
    lat: numeric.optional(),
    long: numeric.optional(),
    address_string: text(500).optional(),
    address_id: text(64).optional(),
    email: text(200).optional(),
    device_id: text(128).optional(),
    account_id: text(64).optional(),
    first_name: text(50).optional(),
    last_name: text(50).optional(),
    phone: text(32).optional(),
    description: text(4000).optional(),
    media_url: text(1000).optional(),
  })
  // attribute[...] fields and anything else a client adds; attributes are read below.
  .catchall(z.union([z.string(), z.array(z.string())]));

const Attributes = z
  .object({
    external_id: z.string().trim().min(1).max(100).optional(),
    district_code: z.string().optional(),
    feeder_code: z.string().optional(),
    community_code: z.string().optional(),
    urgency: z.enum(['normal', 'urgent', 'critical']).optional(),
    customer_class: z.string().optional(),
  })
  .strip();

const ListQuery = z.object({
  api_key: z.string().optional(),
  jurisdiction_id: z.string().optional(),
  service_request_id: z.string().max(2000).optional(),
  service_code: Category.optional(),
  start_date: z.iso.datetime({ offset: true }).optional(),
  end_date: z.iso.datetime({ offset: true }).optional(),
  status: z.enum(['open', 'closed']).optional(),
});

function attributesOf(form: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(form)) {
    const m = /^attribute\[([^\]]+)\]$/.exec(key);
    if (m) out[m[1]!] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return out;
}

/**
 * A readable request for Open311 clients. Without `pii:read` it carries no customer data (issue
 * 17.2): no description (callers' own words, often with a name or a phone number in them), no
 * address, and the point rounded to 2 decimals (about 1 km: the area, not the house).
 */
export function toOpen311(row: RequestRow, personalData: boolean): z.infer<typeof ServiceRequest> {
  const view = toSummary(row);
  const service = SERVICES[view.category];
  return {
    service_request_id: row.id,
    status: CLOSED.includes(view.status) ? 'closed' : 'open',
    status_notes: view.grid && view.status === 'assigned' ? `${STATUS_NOTES.assigned}：${view.grid.name}` : STATUS_NOTES[view.status],
    service_name: service.name,
    service_code: view.category,
    description: personalData ? row.description : null,
    agency_responsible: view.grid?.name ?? null,
    service_notice: null,
    requested_datetime: view.receivedAt,
    updated_datetime: row.updatedAt.toISOString(),
    expected_datetime: view.sla?.deadlines.resolve ?? null,
    address: personalData ? (row.location.address ?? null) : null,
    address_id: null,
    zipcode: null,
    lat: coordinate(row.location.lat, personalData),
    long: coordinate(row.location.lon, personalData),
    media_url: null,
  };
}

function coordinate(value: number | undefined, exact: boolean): number | null {
  if (value === undefined) return null;
  return exact ? value : Math.round(value * 100) / 100;
}

/** The Open311 form, mapped to our request body; errors name the Open311 fields. */
export function mapOpen311(form: z.output<typeof PostForm>, keyName: string): IntakeRequestBody {
  const attrs = Attributes.safeParse(attributesOf(form));
  if (!attrs.success) {
    const issue = attrs.error.issues[0]!;
    throw new HttpError(400, 'validation_failed', `attribute[${issue.path.join('.')}]: ${issue.message}`);
  }
  const a = attrs.data;
  const name = [form.last_name, form.first_name].filter(Boolean).join('');
  const customer = {
    accountNo: form.account_id,
    name: name || undefined,
    phone: form.phone,
    classes: a.customer_class
      ?.split(',')
      .map((c) => c.trim())
      .filter(Boolean) as CustomerClass[] | undefined,
  };
  const candidate = {
    source: 'open311',
    // GeoReport v2 has no client id; a platform that sends attribute[external_id] gets idempotent retries.
    externalId: `${keyName}/${a.external_id ?? randomUUID()}`,
    category: form.service_code,
    description: form.description,
    urgency: a.urgency,
    customer: Object.values(customer).some((v) => v !== undefined) ? customer : undefined,
    location: {
      lat: form.lat,
      lon: form.long,
      address: form.address_string,
      districtCode: a.district_code,
      feederCode: a.feeder_code,
      communityCode: a.community_code,
    },
  };
  const parsed = IntakeRequestBody.safeParse(candidate);
  if (parsed.success) return parsed.data;
  const names: Record<string, string> = {
    'customer.accountNo': 'account_id',
    'customer.phone': 'phone',
    'customer.name': 'first_name/last_name',
    'customer.classes': 'attribute[customer_class]',
    'location.lat': 'lat',
    'location.lon': 'long',
    'location.address': 'address_string',
    'location.districtCode': 'attribute[district_code]',
    'location.communityCode': 'attribute[community_code]',
    location: 'lat+long|account_id|attribute[district_code]|attribute[community_code]',
  };
  const issues: FieldIssue[] = parsed.error.issues.map((i) => {
    const ours = i.path.join('.');
    return { in: 'body', path: names[ours] ?? names[i.path.slice(0, 2).join('.')] ?? ours, message: i.message };
  });
  throw new HttpError(400, 'validation_failed', `${issues[0]!.path}: ${issues[0]!.message}`, issues);
}

export function open311Routes(ctx: IntakeContext): FastifyPluginAsync {
  return async (fastify) => {
    fastify.setErrorHandler((err, request, reply) => {
      const { status, body, internal } = toErrorResponse(err as Error);
      if (internal) ctx.logger.error({ err, reqId: request.id, route: request.routeOptions.url }, 'request failed');
      if (status === 401) void reply.header('www-authenticate', 'Bearer');
      const retryAfter = (body.error.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
      if (status === 429 && typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
      return reply.code(status).send([{ code: status, description: body.error.message }]);
    });
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const tags = ['Open311 GeoReport v2'];
    const read = requireScope('requests:read', { allowKeyParam: true });

    app.get(
      '/open311/v2/services.json',
      { preHandler: read, schema: { summary: 'Service list (our request categories)', tags, response: { 200: z.array(Service) } } },
      async () =>
        Category.options.map((code) => ({
          service_code: code,
          service_name: SERVICES[code].name,
          description: SERVICES[code].description,
          metadata: false,
          type: 'realtime' as const,
          keywords: SERVICES[code].keywords,
          group: SERVICES[code].group,
        })),
    );

    app.post(
      '/open311/v2/requests.json',
      {
        config: { formBody: true },
        preHandler: [requireScope('requests:write', { allowKeyParam: true }), requireSource(() => 'open311')],
        schema: {
          summary: 'Create a service request (form-encoded)',
          description:
            'service_code is one of services.json; give lat+long, account_id or attribute[district_code]/attribute[community_code]. ' +
            'attribute[external_id] makes retries idempotent; attribute[urgency], attribute[customer_class] and attribute[feeder_code] are understood too.',
          tags,
          body: PostForm,
          response: { 200: z.array(z.object({ service_request_id: z.string(), service_notice: z.string(), account_id: z.string().nullable() })) },
        },
      },
      async (request) => {
        const keyName = request.principal!.keyName;
        const body = mapOpen311(request.body, keyName);
        const result = await createRequest(ctx, { body, channel: 'open311', receivedBy: keyName });
        return [
          {
            service_request_id: result.id,
            service_notice: result.duplicate ? '重复提交，已受理' : '已受理，正在派单',
            account_id: request.body.account_id ?? null,
          },
        ];
      },
    );

    app.get(
      '/open311/v2/requests/:file',
      {
        preHandler: read,
        schema: {
          summary: 'One service request: GET requests/{id}.json',
          tags,
          params: z.object({ file: z.string() }),
          response: { 200: z.array(ServiceRequest) },
        },
      },
      async (request) => {
        const id = request.params.file.replace(/\.json$/, '');
        if (!request.params.file.endsWith('.json') || !isUuid(id)) throw new HttpError(404, 'not_found', `service request ${id} not found`);
        const visible = await visibleGrids(ctx.pool, request.principal!);
        const { rows } = await listRequestRows(ctx.pool, { ids: [id], limit: 1, gridIds: gridFilter(visible, undefined, request.principal!.keyName) });
        if (rows.length === 0) throw new HttpError(404, 'not_found', `service request ${id} not found`);
        const personalData = hasScope(request.principal!, 'pii:read');
        return rows.map((row) => toOpen311(row, personalData));
      },
    );

    app.get(
      '/open311/v2/requests.json',
      {
        preHandler: read,
        schema: { summary: 'Service requests (newest first, at most 200)', tags, querystring: ListQuery, response: { 200: z.array(ServiceRequest) } },
      },
      async (request) => {
        const q = request.query;
        const ids = q.service_request_id
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        if (ids && ids.some((id) => !isUuid(id))) return [];
        const visible = await visibleGrids(ctx.pool, request.principal!);
        const { rows } = await listRequestRows(ctx.pool, {
          ids,
          gridIds: gridFilter(visible, undefined, request.principal!.keyName),
          category: q.service_code,
          from: q.start_date,
          to: q.end_date,
          statuses: q.status === 'closed' ? [...CLOSED] : q.status === 'open' ? OPEN : undefined,
          limit: 200,
        });
        const personalData = hasScope(request.principal!, 'pii:read');
        return rows.map((row) => toOpen311(row, personalData));
      },
    );
  };
}
