# Writes testdata/backfill.om: 30 minutes of 15 s scrapes of the seven model servers the presets
# cover, with the metric names and labels each server documents (see presets.go). To re-record:
#   python3 backfill.py && promtool tsdb create-blocks-from openmetrics backfill.om /tmp/tsdb
#   prometheus --storage.tsdb.path=/tmp/tsdb --storage.tsdb.retention.time=100y --web.listen-address=127.0.0.1:9090 &
#   go test ./pkg/source/prometheus -record=http://127.0.0.1:9090
import random, math, collections
random.seed(11)
T0 = 1795222800          # 2026-11-21T01:00:00Z
N = 121                  # 30 min of 15 s scrapes
SCRAPE = 15
series = collections.OrderedDict()   # (name, labels tuple) -> list of (t, v)
def put(name, labels, t, v):
    key = (name, tuple(sorted(labels.items())))
    series.setdefault(key, []).append((t, v))

SEC_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
def fmt_le(b):
    s = repr(float(b))
    return s

class Hist:
    def __init__(self, bounds): self.bounds=bounds; self.c=[0]*len(bounds); self.inf=0; self.sum=0.0
    def observe(self, x):
        for i,b in enumerate(self.bounds):
            if x <= b: self.c[i]+=1
        self.inf+=1; self.sum+=x
    def reset(self): self.c=[0]*len(self.bounds); self.inf=0; self.sum=0.0
    def emit(self, name, labels, t, with_inf=True):
        for b,c in zip(self.bounds,self.c):
            put(name+'_bucket', dict(labels, le=fmt_le(b)), t, c)
        if with_inf: put(name+'_bucket', dict(labels, le='+Inf'), t, self.inf)
        put(name+'_sum', labels, t, round(self.sum, 6)); put(name+'_count', labels, t, self.inf)

def lat(base):  # seconds
    return random.lognormvariate(math.log(base), 0.6)

models = [('churn', 'v1', 0.04, 6), ('churn', 'v2', 0.03, 3), ('fraud', 'v7', 0.12, 4)]

# generic (demo model server / prometheus_client app)
g_state = {}
for m,v,base,rate in models:
    g_state[(m,v)] = dict(h=Hist(SEC_BUCKETS), ok=0, err=0,
                          f={'age': Hist([18,25,35,45,55,65]), 'income': Hist([20000,40000,60000,80000,100000])})
for i in range(N):
    t = T0 + SCRAPE*i
    for m,v,base,rate in models:
        st = g_state[(m,v)]
        if m=='fraud' and i==60:   # process restart: every counter starts again
            st['h'].reset(); st['ok']=0; st['err']=0
            for h in st['f'].values(): h.reset()
        for _ in range(random.randint(0, 2*rate*SCRAPE//3)):
            x = lat(base); st['h'].observe(x)
            if random.random() < 0.04: st['err'] += 1
            else: st['ok'] += 1
            st['f']['age'].observe(random.gauss(41, 12)); st['f']['income'].observe(random.gauss(52000, 21000))
        L = dict(model_name=m, model_version=v, job='demo-model', instance='127.0.0.1:9100')
        st['h'].emit('ml_prediction_latency_seconds', L, t)
        put('ml_prediction_requests_total', dict(L, status='ok'), t, st['ok'])
        if st['err'] > 0 or i > 40:
            put('ml_prediction_requests_total', dict(L, status='error'), t, st['err'])
        for f,h in st['f'].items():
            h.emit('ml_feature_value', dict(L, feature=f), t)
    put('up', dict(job='demo-model', instance='127.0.0.1:9100'), t, 1)
    put('up', dict(job='prometheus', instance='127.0.0.1:9090'), t, 1)

# kserve: request_predict_seconds{model_name}, prometheus_client default buckets
KS = [0.005,0.01,0.025,0.05,0.075,0.1,0.25,0.5,0.75,1,2.5,5,7.5,10]
ks = {'sklearn-iris': Hist(KS), 'xgb-credit': Hist(KS)}
for i in range(N):
    t = T0 + SCRAPE*i
    for m,h in ks.items():
        for _ in range(random.randint(0, 40)): h.observe(lat(0.02 if m=='sklearn-iris' else 0.3))
        h.emit('request_predict_seconds', dict(model_name=m, job='kserve', instance='10.0.0.5:8080'), t)
    put('up', dict(job='kserve', instance='10.0.0.5:8080'), t, 0 if 100 < i < 110 else 1)
    for job, inst in (('bentoml','10.0.0.6:3000'),('seldon','10.0.0.7:8000'),('triton','10.0.0.8:8002'),
                      ('torchserve','10.0.0.9:8082'),('mlserver','10.0.0.10:8082'),('broken','10.0.0.11:80')):
        put('up', dict(job=job, instance=inst), t, 0 if job == 'triton' and i > 115 else 1)

# bentoml: bentoml_service_request_duration_seconds / _request_total
BB = [0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10,30,60,120,180]
bento = {}
for i in range(N):
    t = T0 + SCRAPE*i
    for svc,ver in (('iris_classifier','a1b2c3'),('summarizer','9f8e7d')):
        for code in ('200','500'):
            k=(svc,ver,code)
            if k not in bento: bento[k]=[Hist(BB),0]
            n = random.randint(0, 30) if code=='200' else random.randint(0,1)
            for _ in range(n): bento[k][0].observe(lat(0.05 if svc=='iris_classifier' else 1.5)); bento[k][1]+=1
            L = dict(endpoint='/classify' if svc=='iris_classifier' else '/summarize', service_name=svc, service_version=ver,
                     http_response_code=code, job='bentoml', instance='10.0.0.6:3000')
            bento[k][0].emit('bentoml_service_request_duration_seconds', L, t)
            put('bentoml_service_request_total', L, t, bento[k][1])
# seldon v1 executor client histogram
SB = [0.005,0.01,0.025,0.05,0.075,0.1,0.25,0.5,0.75,1,2.5,5,7.5,10]
sel = {}
for i in range(N):
    t = T0 + SCRAPE*i
    for mname,mver in (('classifier','0.3'),):
        for code in ('200','503'):
            k=(mname,code)
            if k not in sel: sel[k]=Hist(SB)
            for _ in range(random.randint(0, 25) if code=='200' else random.randint(0,2)): sel[k].observe(lat(0.015))
            L = dict(deployment_name='income', predictor_name='default', predictor_version='', service='predictions',
                     method='post', code=code, model_name=mname, model_image='seldonio/sklearnserver', model_version=mver,
                     job='seldon', instance='10.0.0.7:8000')
            sel[k].emit('seldon_api_executor_client_requests_seconds', L, t)
# triton: counters of µs
tri = {}
for i in range(N):
    t = T0 + SCRAPE*i
    for m,v in (('densenet_onnx','1'),('bert','2')):
        st = tri.setdefault((m,v), dict(ok=0, fail=0, dur=0))
        n = random.randint(0, 60)
        for _ in range(n): st['ok']+=1; st['dur'] += int(lat(0.008 if m=='densenet_onnx' else 0.05)*1e6)
        st['fail'] += random.randint(0,1)
        L = dict(model=m, version=v, job='triton', instance='10.0.0.8:8002')
        put('nv_inference_request_success', L, t, st['ok'])
        put('nv_inference_request_failure', dict(L, reason='BACKEND'), t, st['fail'])
        put('nv_inference_request_duration_us', L, t, st['dur'])
# torchserve
ts_ = {}
for i in range(N):
    t = T0 + SCRAPE*i
    for m,v in (('resnet-18','1.0'),):
        st = ts_.setdefault(m, dict(n=0, us=0.0))
        for _ in range(random.randint(0, 30)): st['n']+=1; st['us'] += lat(0.03)*1e6
        L = dict(model_name=m, model_version=v, hostname='ts-0', job='torchserve', instance='10.0.0.9:8082')
        put('ts_inference_requests_total', L, t, st['n'])
        put('ts_inference_latency_microseconds', L, t, round(st['us'], 3))
# mlserver
ml = {}
for i in range(N):
    t = T0 + SCRAPE*i
    for m,v in (('iris-sklearn','v0.1.0'),('mnist','')):
        st = ml.setdefault(m, dict(ok=0, fail=0, s=0.0))
        for _ in range(random.randint(0, 20)): st['ok']+=1; st['s'] += lat(0.01)
        if random.random() < 0.2: st['fail'] += 1
        L = dict(model=m, version=v, job='mlserver', instance='10.0.0.10:8082')
        put('model_infer_request_success_total', L, t, st['ok'])
        put('model_infer_request_failure_total', L, t, st['fail'])
        put('model_infer_request_duration_sum', L, t, round(st['s'], 6))
        put('model_infer_request_duration_count', L, t, st['ok'])

# a histogram without +Inf (misconfigured exporter) for the fault tests
h = Hist(SEC_BUCKETS)
for i in range(N):
    t = T0 + SCRAPE*i
    for _ in range(random.randint(0,20)): h.observe(lat(0.05))
    h.emit('broken_latency_seconds', dict(model_name='noinf', job='broken', instance='10.0.0.11:80'), t, with_inf=False)

# saturation (a random stream of its own, so the series above are unchanged): process_* of the
# client libraries' process collectors, DCGM exporter GPU gauges, Triton's GPU and pending-request
# gauges, BentoML's in-progress gauge and TorchServe's cumulative queue time.
sat = random.Random(23)
cpu = collections.defaultdict(float)
tsq = 0.0
PROC = [('demo-model','127.0.0.1:9100',0.4),('kserve','10.0.0.5:8080',1.2),('bentoml','10.0.0.6:3000',0.8),
        ('seldon','10.0.0.7:8000',0.3),('mlserver','10.0.0.10:8082',0.6)]
for i in range(N):
    t = T0 + SCRAPE*i
    for job, inst, cores in PROC:
        cpu[inst] += SCRAPE*cores*(0.8 + 0.4*sat.random())
        L = dict(job=job, instance=inst)
        put('process_cpu_seconds_total', L, t, round(cpu[inst], 2))
        put('process_resident_memory_bytes', L, t, float(int(3e8 + 1e8*sat.random())))
    util = 97 if 60 <= i < 100 else 40 + sat.randint(0, 20)     # a saturated stretch from 01:15 to 01:25
    for g in ('0', '1'):
        L = dict(gpu=g, UUID='GPU-000%s' % g, device='nvidia'+g, modelName='NVIDIA A100-SXM4-40GB', Hostname='gpu-node-1',
                 job='demo-model', instance='127.0.0.1:9100')
        put('DCGM_FI_DEV_GPU_UTIL', L, t, util if g == '0' else 10)
        put('DCGM_FI_DEV_FB_USED', L, t, 20000 + 100*sat.randint(0, 9) if g == '0' else 512)
    L = dict(gpu_uuid='GPU-a1b2', job='triton', instance='10.0.0.8:8002')
    put('nv_gpu_utilization', L, t, round(0.3 + 0.4*sat.random(), 3))
    put('nv_gpu_memory_used_bytes', L, t, float(8e9 + int(1e9*sat.random())))
    put('nv_gpu_memory_total_bytes', L, t, 4.2e10)
    for m,v in (('densenet_onnx','1'),('bert','2')):
        put('nv_inference_pending_request_count', dict(model=m, version=v, job='triton', instance='10.0.0.8:8002'), t, sat.randint(0, 6))
    for svc, ver in (('iris_classifier','a1b2c3'),('summarizer','9f8e7d')):
        put('bentoml_service_request_in_progress', dict(endpoint='/classify' if svc=='iris_classifier' else '/summarize',
            service_name=svc, service_version=ver, job='bentoml', instance='10.0.0.6:3000'), t, sat.randint(0, 4))
    tsq += SCRAPE*1e6*(0.5 + sat.random())   # about one request waiting on average
    put('ts_queue_latency_microseconds', dict(model_name='resnet-18', model_version='1.0', hostname='ts-0', job='torchserve',
        instance='10.0.0.9:8082'), t, round(tsq, 3))

out = []
names = collections.OrderedDict()
for (name, labels) in series: names.setdefault(name, []).append((name, labels))
for name, keys in names.items():
    out.append('# TYPE %s unknown' % name)
    for key in keys:
        lab = ','.join('%s="%s"' % (k, v) for k, v in key[1])
        for t, v in series[key]:
            out.append('%s{%s} %s %d' % (name, lab, repr(float(v)), t))
out.append('# EOF')
open("backfill.om", "w").write('\n'.join(out) + '\n')
print(len(series), 'series', sum(len(v) for v in series.values()), 'samples')
