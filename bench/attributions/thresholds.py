"""The decision thresholds of a model folder, tried on a grid over the dev split.

    nice python bench/attributions/thresholds.py MODELS_DIR [CUE_THRESHOLDS] [CORPUS] [BLENDS] [NEURAL_WEIGHTS]
    e.g. bench/attributions/thresholds.py tracker/capture/models 0.35,0.4,0.45 ../shared/corpora/polnear 0,0.5 0,0.4

Prints the eight best (cue, source, content, bare-cue, content-from-stage-one) settings
by the sum of the three F1s, for each weight of the neural member in stage one (when
the folder has one). The cue marginals are computed once; stage two once per cue
threshold. Choosing these five numbers on dev is the only use of dev besides measuring.
"""
import itertools
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from corpus import load_split, measure  # noqa: E402
from tracker.capture.attribution import Labeller, group  # noqa: E402
from tracker.capture.features import base_features, cue_relative_features, paragraphs, tokenize  # noqa: E402
L=Labeller(sys.argv[1])
dev=load_split(sys.argv[3] if len(sys.argv)>3 else '../shared/corpora/polnear','dev')
cue_ths=[float(x) for x in (sys.argv[2] if len(sys.argv)>2 else "0.3,0.35,0.4,0.45").split(',')]
src_ths=[0.3,0.35,0.4,0.45,0.5]; con_ths=[0.3,0.35,0.4,0.45]; bare=[0.6,0.8,1.01]
# share of content probability from stage one (Labeller.content_from_stage_one)
blends=[float(x) for x in (sys.argv[4] if len(sys.argv)>4 else "0,0.5").split(',')]
weights=[float(x) for x in sys.argv[5].split(',')] if len(sys.argv)>5 and L.neural else [L.neural_weight]
crf=[]
for d in dev:
    toks=tokenize(d['text'])
    for para in paragraphs(d['text'],toks):
        words=[toks[i][2] for i in para]
        features={}
        for _t,v in L.cue+L.role:
            if v not in features: features[v],sids,quotes=base_features(words,L.clusters,v)
        first=L._marginals(L.cue,features,("B-CUE","I-CUE","B-CON","I-CON"))
        crf.append((d['name'],para,toks,words,features,sids,quotes,first))
if L.neural:
    neural=L.neural.marginals([c[3] for c in crf])
for nw in weights:
  L.neural_weight=nw
  paras=[]
  for k,(name,para,toks,words,features,sids,quotes,first) in enumerate(crf):
    if L.neural: first=L.with_neural(first,words,neural[k])
    cp=[r[0]+r[1] for r in first]; jc=[r[2]+r[3] for r in first]
    paras.append((name,para,toks,words,features,sids,quotes,cp,jc))
  res=[]
  for ct in cue_ths:
      rp=[]
      for name,para,toks,words,features,sids,quotes,cp,jc in paras:
          mask=[1 if p>=ct else 0 for p in cp]
          rel={v:cue_relative_features(words,features[v],sids,quotes,mask) for v in {v for _t,v in L.role}}
          rp.append((mask,L._marginals(L.role,rel,("B-SRC","I-SRC","B-CON","I-CON"))))
      for st,cot,bt,bl in itertools.product(src_ths,con_ths,bare,blends):
          preds={d['name']:[] for d in dev}
          for (name,para,toks,words,features,sids,quotes,cp,jc),(mask,r) in zip(paras,rp):
              n=len(words); cl=["O"]*n
              for i in range(n):
                  if mask[i]: cl[i]="I-CUE" if i and mask[i-1] else "B-CUE"
              rl=["O"]*n
              for i in range(n):
                  ps=r[i][0]+r[i][1]; pc=(1-bl)*(r[i][2]+r[i][3])+bl*jc[i]
                  if ps>=st and ps>=pc: tag="SRC"
                  elif pc>=cot: tag="CON"
                  elif ps>=st: tag="SRC"
                  else: continue
                  rl[i]=("I-" if i and rl[i-1][2:]==tag else "B-")+tag
              preds[name].extend(a for a in group(para,toks,cl,rl,cp,sids) if a["content"] or a["source"] or a["score"]>=bt)
          m=measure(dev,preds)
          res.append(((ct,st,cot,bt,bl),m['cue_overlap']['f1'],m['source_overlap']['f1'],m['content_token']['f1']))
  res.sort(key=lambda x:-(x[1]+x[2]+x[3]))
  print("neural weight", nw if L.neural else None, flush=True)
  for r in res[:8]: print(r, flush=True)
