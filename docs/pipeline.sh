#!/usr/bin/env bash
# The whole cvtool loop on the public datasets, each stage chained through the path that the
# previous one printed as its last stdout line.
#
#   bash docs/pipeline.sh                     # downloads everything (~3 GB) into ./cvtool-work
#   CAMVID_ROOT=... COCO_ROOT=... MOT17_ROOT=... YOLO_WEIGHTS=... bash docs/pipeline.sh
#                                             # use copies you already have (no download)
#
# EPOCHS, SIZE and WORK tune the run; everything else is each command's default.
set -euo pipefail

WORK=${WORK:-cvtool-work}
EPOCHS=${EPOCHS:-20}
SIZE=${SIZE:-360x480}

# --- data: download -> prepare ------------------------------------------------------------
CAMVID_ROOT=${CAMVID_ROOT:-$(cvtool download camvid --out "$WORK/raw")}
COCO_ROOT=${COCO_ROOT:-$(cvtool download coco-val2017 --out "$WORK/raw/coco")}
MOT17_ROOT=${MOT17_ROOT:-$(cvtool download mot17 --out "$WORK/raw")}
YOLO_WEIGHTS=${YOLO_WEIGHTS:-$(cvtool download weights yolov8n.pt)}

camvid=$(cvtool prepare camvid --root "$CAMVID_ROOT" --out "$WORK/data/camvid" --overwrite)
cvtool prepare stats "$camvid" >/dev/null

# --- segmentation: train -> evaluate -> compare ---------------------------------------------
unet=$(cvtool train unet --data "$camvid" --out "$WORK/runs/unet" --epochs "$EPOCHS" \
       --size "$SIZE" --overwrite)
unet_bilinear=$(cvtool train unet --upsample bilinear --data "$camvid" --out "$WORK/runs/unet-bilinear" \
       --epochs "$EPOCHS" --size "$SIZE" --overwrite)
eval_unet=$(cvtool evaluate "$unet" --split test --overwrite)
eval_bilinear=$(cvtool evaluate "$unet_bilinear" --split test --overwrite)
cvtool compare "$eval_unet" "$eval_bilinear" --out "$WORK/compare/camvid"

# --- detection: run -> eval ---------------------------------------------------------------
annotations="$COCO_ROOT/annotations/instances_val2017.json"
detections=$(cvtool detect run --weights "$YOLO_WEIGHTS" --images "$COCO_ROOT/val2017" \
             --annotations "$annotations" --out "$WORK/detect/yolov8n" --overwrite)
cvtool detect eval "$detections" --annotations "$annotations"

# --- tracking: two trackers -> one comparison ------------------------------------------------
for tracker in iou bytetrack; do
  cvtool track mot17 --root "$MOT17_ROOT" --tracker "$tracker" --out "$WORK/track" --overwrite >/dev/null
done
cvtool track eval "$WORK/track" --gt "$MOT17_ROOT"
